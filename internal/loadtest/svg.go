package loadtest

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart draws the run as a hand-written SVG: four panels sharing the time
// axis (goodput %, p99 part latency ms, server CPU %, server RSS MB), each a
// line with its own axis, a legend on top, and phases shaded.
func (r *Report) Chart() string {
	const (
		w, left, right = 900.0, 70.0, 20.0
		top, panelH    = 60.0, 130.0
		gap            = 30.0
	)
	type panel struct {
		title, color string
		v            func(p Point) float64
		fixedMax     float64
	}
	panels := []panel{
		{"goodput %", "#1a7f37", func(p Point) float64 { return 100 * p.Goodput }, 100},
		{"p99 part latency ms", "#cf222e", func(p Point) float64 { return p.P99PartMs }, 0},
		{"server CPU %", "#0969da", func(p Point) float64 { return p.CPU }, 0},
		{"server RSS MB", "#8250df", func(p Point) float64 { return p.RSSMB }, 0},
	}
	h := top + float64(len(panels))*(panelH+gap) + 30
	tmax := math.Max(r.DurationS, 1)
	for _, p := range r.Series {
		tmax = math.Max(tmax, p.T)
	}
	plotW := w - left - right
	x := func(t float64) float64 { return left + plotW*t/tmax }

	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", left, esc("podium loadtest "+r.Scenario+" — "+r.Started.Format("2006-01-02 15:04:05")))

	// Legend: the four lines, then the phases.
	phaseColors := []string{"#eeeeee", "#ffd8d8", "#d8ecff", "#fff1c2", "#e0f5e0", "#f0e0ff"}
	lx := left
	for _, p := range panels {
		fmt.Fprintf(&b, `<line x1="%.0f" y1="34" x2="%.0f" y2="34" stroke="%s" stroke-width="2"/><text x="%.0f" y="38">%s</text>`+"\n", lx, lx+18, p.color, lx+22, esc(p.title))
		lx += 34 + 6.5*float64(len(p.title))
	}
	for i, ph := range r.Phases {
		fmt.Fprintf(&b, `<rect x="%.0f" y="42" width="12" height="10" fill="%s" stroke="#999"/><text x="%.0f" y="51">%s</text>`+"\n", left+float64(i)*110, phaseColors[i%len(phaseColors)], left+float64(i)*110+16, esc("phase: "+ph.Name))
	}

	for i, pn := range panels {
		y0 := top + float64(i)*(panelH+gap) + 10
		vmax := pn.fixedMax
		if vmax == 0 {
			for _, p := range r.Series {
				if v := pn.v(p); !math.IsNaN(v) {
					vmax = math.Max(vmax, v)
				}
			}
			vmax = niceCeil(vmax)
		}
		y := func(v float64) float64 { return y0 + panelH - panelH*math.Min(v, vmax)/vmax }
		for j, ph := range r.Phases {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x(ph.StartS), y0, math.Max(x(ph.EndS)-x(ph.StartS), 0), panelH, phaseColors[j%len(phaseColors)])
		}
		// Axes, ticks and grid.
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="black"/>`+"\n", left, y0, left, y0+panelH)
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="black"/>`+"\n", left, y0+panelH, w-right, y0+panelH)
		for k := 0; k <= 4; k++ {
			v := vmax * float64(k) / 4
			fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ccc" stroke-dasharray="2,3"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
				left, y(v), w-right, y(v), left-4, y(v)+4, fmtTick(v))
		}
		for _, t := range timeTicks(tmax) {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/><text x="%.1f" y="%.1f" text-anchor="middle">%ss</text>`+"\n",
				x(t), y0+panelH, x(t), y0+panelH+4, x(t), y0+panelH+15, fmtTick(t))
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-weight="bold" fill="%s">%s</text>`+"\n", left+6, y0-3, pn.color, esc(pn.title))
		// The line; gaps where there is no value (e.g. nobody listening).
		var pts []string
		flush := func() {
			if len(pts) > 0 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", pn.color, strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for _, p := range r.Series {
			v := pn.v(p)
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(v)))
		}
		flush()
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func timeTicks(tmax float64) []float64 {
	step := niceCeil(tmax / 8)
	var ts []float64
	for t := 0.0; t <= tmax+1e-9; t += step {
		ts = append(ts, t)
	}
	return ts
}

func fmtTick(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
