// Package frontend holds the built single-page app (Svelte + Vite) for the Go server to serve.
//
// dist/ is produced by `npm run build` in this folder (the Makefile does it). Only dist/.gitkeep
// is committed, so the Go module builds before the first frontend build; the server then
// answers a "not built yet" page.
package frontend

import "embed"

// Dist is the built app: dist/index.html and dist/assets/* (content-hashed file names).
//
//go:embed all:dist
var Dist embed.FS
