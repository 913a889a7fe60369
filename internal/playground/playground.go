// Package playground serves GraphiQL from the binary itself: the page at
// / and its bundled assets (GraphiQL, React, Monaco and its workers) under
// /playground/, so the playground works with no internet and the browser
// fetches nothing from another host (its Content-Security-Policy forbids
// it, too).
//
// The assets in dist/ are built from app/ (main.jsx, build.mjs) with the
// npm packages pinned in app/package-lock.json: `make playground` rebuilds
// them and `make check-generated` fails when the committed files differ
// from a fresh build. They are committed so that a plain `go build` (with
// no Node.js) embeds a working playground.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// AssetsPath is where the bundled assets are served.
const AssetsPath = "/playground/"

//go:embed dist
var dist embed.FS

//go:embed index.html
var indexHTML string

var page = template.Must(template.New("playground").Parse(indexHTML))

// csp lets the page load only what this server serves; GraphiQL's styles
// set inline style attributes, and Monaco its fonts as data: URLs.
const csp = "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// Page serves the playground page for the GraphQL endpoint. headers, when
// not nil, gives the JSON object the Headers tab starts with (a development
// token under DEV_MODE); it is called for every page load, so the token is
// always fresh, and only for a request from this machine (Local): anyone
// else gets the page with an empty Headers tab.
func Page(endpoint string, headers func() (map[string]string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := struct {
			Endpoint string `json:"endpoint"`
			Headers  string `json:"headers,omitempty"`
		}{Endpoint: endpoint}
		if headers != nil && Local(r) {
			h, err := headers()
			if err != nil {
				http.Error(w, "playground: "+err.Error(), http.StatusInternalServerError)
				return
			}
			b, _ := json.MarshalIndent(h, "", "  ")
			cfg.Headers = string(b)
		}
		config, _ := json.Marshal(cfg)
		var buf bytes.Buffer
		// template.JS puts the JSON into the script element as it is
		// (html/template would otherwise quote it as a JavaScript string).
		// That is safe because json.Marshal escapes <, > and & as \u003c,
		// \u003e and \u0026, so no value can close the element or open a
		// comment; and the element's type, application/json, is data the
		// browser never runs.
		if err := page.Execute(&buf, map[string]any{"Assets": AssetsPath, "Config": template.JS(config)}); err != nil {
			http.Error(w, "playground: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(buf.Bytes())
	})
}

// Local reports whether r comes from this machine and names it so: its
// remote address is a loopback address and its Host is localhost,
// 127.0.0.1 or [::1] (any port). The Host check stops DNS rebinding: a web
// page whose name an attacker points at 127.0.0.1 sends its own name as
// Host. A proxy on the same machine passes the first check, and the second
// only when it forwards a loopback Host.
func Local(r *http.Request) bool {
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(addr); err != nil || ip == nil || !ip.IsLoopback() {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1" || host == "::1"
}

// asset is one bundled file with its validator.
type asset struct {
	data []byte
	etag string
}

// assets are the files of dist/ by name, each with an ETag from a hash of
// its content (embedded files carry no modification time to validate on).
var assets = sync.OnceValue(func() map[string]asset {
	out := map[string]asset{}
	err := fs.WalkDir(dist, "dist", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := dist.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[strings.TrimPrefix(path, "dist/")] = asset{data: data, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
})

// Assets serves the bundled assets; mount it at AssetsPath. Only the
// files themselves: the folder has no listing. Each answer carries its
// ETag and Cache-Control: no-cache, so a browser asks again each time (the
// names do not change between builds) and gets 304 when it has the file.
func Assets() http.Handler {
	files := assets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, AssetsPath)
		a, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("ETag", a.etag)
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
	})
}
