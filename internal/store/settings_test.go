package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestSettingsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Setting(ctx, "attack_declared"); err != nil || ok {
		t.Fatalf("unset setting: ok %v, err %v", ok, err)
	}
	if err := s.SetSetting(ctx, "attack_declared", "true"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "attack_declared", "false"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, ok, err := s.Setting(ctx, "attack_declared"); err != nil || !ok || v != "false" {
		t.Errorf("after reopen: %q %v %v, want \"false\"", v, ok, err)
	}
}
