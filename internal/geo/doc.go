// Package geo resolves a listener's territory (an ISO 3166-1 code) once,
// when they join: from a country header set by a trusted proxy or CDN,
// else from an operator-supplied MaxMind-format country database, else
// unknown.
package geo
