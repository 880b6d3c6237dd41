// Package e2e holds os1's end-to-end tests: they build the real os1 binary,
// run `os1 serve` as a separate process with its own data dir and a scripted
// model server that speaks the OpenAI-compatible wire protocol, and drive it
// the way people do: with `os1 chat`, over the HTTP API, by killing it
// mid-reply, and through the web UI in a headless Chromium.
//
// It is test-only. It must never be imported by production code, and its
// tests must never assert on wall-clock speed (bench/ measures that).
package e2e
