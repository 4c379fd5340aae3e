package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/podium-live/podium/"

// layers is the import direction of docs/ARCHITECTURE.md: a package may
// import only packages on a lower layer. Packages on one layer talk
// through small interfaces wired in app. A new package must be placed
// here (and in the architecture's package table) before it builds green.
var layers = map[string]int{
	// The domain and leaves: no podium imports.
	"internal/space":         0,
	"internal/auth":          0,
	"internal/codec":         0,
	"internal/tone":          0,
	"internal/obs":           0,
	"internal/config":        0,
	"internal/web":           0,
	"internal/hls/hlsclient": 0,
	"internal/policy":        0,
	"internal/dsa":           0,
	"internal/dsa/dsatest":   1,
	"internal/geo":           1,
	"internal/moderation":    1,
	"internal/store":         2,
	"internal/mix":           1,
	"internal/whip":          1,
	"internal/hls":           1,
	"internal/ingest":        2,
	"internal/record":        2,
	"internal/admission":     3,
	"internal/live":          3,
	"internal/httpapi":       4,
	"internal/demo":          4,
	"internal/loadtest":      4,
	"internal/app":           5,
	"internal/cli":           6,
	"cmd/podium":             7,
	// Benchmark tools beside the scripts that run them.
	"scripts/servebench": 7,
}

// TestImportDirection keeps the layering one way: no package reaches up or
// sideways, so no hub can grow that imports everything.
func TestImportDirection(t *testing.T) {
	root := filepath.Join("..", "..")
	pkgs := map[string][]string{} // package → its podium imports
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := pkgs[pkg]; !ok {
			pkgs[pkg] = nil
		}
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			if dep, ok := strings.CutPrefix(path, module); ok {
				pkgs[pkg] = append(pkgs[pkg], dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages under %s", len(pkgs), root)
	}
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		lp, ok := layers[p]
		if !ok {
			t.Errorf("package %s has no layer: place it in the layers table and in docs/ARCHITECTURE.md", p)
			continue
		}
		for _, dep := range pkgs[p] {
			ld, ok := layers[dep]
			if ok && ld >= lp {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point to a lower layer", p, lp, dep, ld)
			}
		}
	}
	for p := range layers {
		if _, ok := pkgs[p]; !ok {
			if _, err := os.Stat(filepath.Join(root, p)); err != nil {
				t.Errorf("layers names %s, which does not exist any more", p)
			}
		}
	}
}
