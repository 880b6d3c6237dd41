package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
)

// VoiceAssetsPrefix is the URL path VoiceAssets answers under. The call UI
// loads Silero VAD from VoiceAssetsPrefix+"vad-web/" and points
// onnxruntime-web's wasm loader at VoiceAssetsPrefix+"onnxruntime-web/".
const VoiceAssetsPrefix = "/voice/assets/"

// voiceAssetsMissing is what a request for an absent asset is told; the call
// button says the same and falls back to the server's voice detection.
const voiceAssetsMissing = "voice assets missing: run `make run` or `scripts/assets.sh voice`\n"

// voiceTypes are the only files VoiceAssets serves, by extension. Anything
// else in the folder (SHA256SUMS, .pin, package.json) is not for browsers.
var voiceTypes = map[string]string{
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8", // onnxruntime's wasm glue, loaded with import()
	".wasm": "application/wasm",               // instantiateStreaming insists on this type
	".onnx": "application/octet-stream",
	".txt":  "text/plain; charset=utf-8",
}

// voiceCacheControl lets a browser keep the ~13 MB of VAD model and ONNX
// runtime for a week without asking; after that the ETag (size and mtime,
// both new whenever scripts/assets.sh swaps a folder in) makes the check a
// 304. A week, not a year: the URLs carry no version, so a changed pin must
// reach browsers in bounded time.
const voiceCacheControl = "public, max-age=604800"

// VoiceAssets returns the handler serving the browser voice assets that
// scripts/assets.sh fetches into dir (the cache folder's "voice"
// subfolder): GET or HEAD VoiceAssetsPrefix+"vad-web/bundle.min.js" serves
// dir/vad-web/bundle.min.js. Mount it at VoiceAssetsPrefix, unstripped.
//
// It only reads, and only files under dir: the path is cleaned, names with a
// dot-segment or a hidden element are refused, the file is opened through
// an os.Root so neither ".." nor a symbolic link can lead out of dir, and
// only the extensions in voiceTypes are served, each with its explicit
// content type. A missing file (or a missing dir: the assets were never
// fetched) is a plain-text 404 that says how to fetch them. dir is looked
// at on every request, so assets fetched while os1 runs are served at once.
func VoiceAssets(dir string) http.Handler {
	return &voiceAssets{dir: dir}
}

type voiceAssets struct{ dir string }

func (v *voiceAssets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := voiceAssetName(r.URL.Path)
	if !ok {
		hdr.Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	f, info, err := v.open(name)
	if err != nil {
		hdr.Set("Cache-Control", "no-store")
		if errors.Is(err, fs.ErrNotExist) {
			http.Error(w, voiceAssetsMissing, http.StatusNotFound)
			return
		}
		http.Error(w, "voice asset unreadable", http.StatusNotFound)
		return
	}
	defer f.Close()
	hdr.Set("Content-Type", voiceTypes[path.Ext(name)])
	hdr.Set("Cache-Control", voiceCacheControl)
	hdr.Set("ETag", fmt.Sprintf(`"%x-%x"`, info.Size(), info.ModTime().UnixNano()))
	http.ServeContent(w, r, path.Base(name), info.ModTime(), f)
}

// voiceAssetName is the file a request path names, relative to the assets
// folder, if it is one VoiceAssets may serve.
func voiceAssetName(p string) (string, bool) {
	if !strings.HasPrefix(p, VoiceAssetsPrefix) {
		return "", false
	}
	rel := p[len(VoiceAssetsPrefix):]
	// A cleaned path must come out the same: "..", "." and "//" are refused
	// rather than resolved, so one URL names one file.
	if rel == "" || path.Clean(rel) != rel || !fs.ValidPath(rel) || strings.Contains(rel, "\\") {
		return "", false
	}
	for _, elem := range strings.Split(rel, "/") {
		if strings.HasPrefix(elem, ".") {
			return "", false
		}
	}
	if _, ok := voiceTypes[path.Ext(rel)]; !ok {
		return "", false
	}
	return rel, true
}

// open opens name inside v.dir; a directory counts as missing.
func (v *voiceAssets) open(name string) (*os.File, os.FileInfo, error) {
	root, err := os.OpenRoot(v.dir)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, fs.ErrNotExist
	}
	return f, info, nil
}
