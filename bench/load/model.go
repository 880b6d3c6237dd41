package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// The scripted model: an OpenAI-compatible Chat Completions server that
// answers every chat at a human pace (-ttft to the first token, then -tps
// tokens a second, -reply-tokens of them). It runs as its own process
// (`load -serve-model ADDR`) so its CPU is counted apart from os1's and the
// load client's. Memory extraction prompts ("Answer with JSON only") get an
// empty list of operations, so the memory worker does its real work on a
// valid answer, and title requests a short title; both are paced like a
// chat's first token.

type modelPace struct {
	ttft   time.Duration
	tps    float64
	tokens int
}

// calls counts what the model was asked, by kind (GET /stats answers them).
var calls struct{ chat, extraction, title atomic.Int64 }

// word is one token of a reply: the client counts tokens by spaces.
const word = "la "

func serveModel(addr string, p modelPace) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("model listening %s\n", ln.Addr())
	os.Stdout.Sync()
	srv := &http.Server{Handler: modelHandler(p), ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

func modelHandler(p modelPace) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"load-model","object":"model","owned_by":"bench"}]}`)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%d %d %d\n", calls.chat.Load(), calls.extraction.Load(), calls.title.Load())
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		p.complete(w, r)
	})
	return mux
}

type chatReq struct {
	Stream   bool `json:"stream"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

func (p modelPace) complete(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req chatReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	extraction, title := false, false
	for _, m := range req.Messages {
		extraction = extraction || strings.Contains(string(m.Content), "Answer with JSON only")
		title = title || strings.Contains(string(m.Content), "You write short titles for conversations.")
	}
	var pieces []string
	switch {
	case extraction:
		calls.extraction.Add(1)
		pieces = []string{`{"operations":[]}`}
	case title:
		calls.title.Add(1)
		pieces = []string{"A walk by the river"}
	default:
		calls.chat.Add(1)
		pieces = make([]string, p.tokens)
		for i := range pieces {
			pieces[i] = word
		}
	}
	ctx := r.Context()
	wait := func(until time.Time) bool {
		d := time.Until(until)
		if d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !wait(start.Add(p.ttft)) {
		return
	}
	usage := map[string]int{"prompt_tokens": 100, "completion_tokens": len(pieces), "total_tokens": 100 + len(pieces)}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-load", "object": "chat.completion", "created": start.Unix(), "model": "load-model",
			"choices": []any{map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": strings.Join(pieces, "")}, "finish_reason": "stop"}},
			"usage":   usage})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	bw := bufio.NewWriterSize(w, 512)
	chunk := func(delta map[string]any, finish any, u any) {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-load", "object": "chat.completion.chunk", "created": start.Unix(), "model": "load-model",
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}, "usage": u})
		bw.WriteString("data: ")
		bw.Write(b)
		bw.WriteString("\n\n")
		bw.Flush()
		if fl != nil {
			fl.Flush()
		}
	}
	step := time.Duration(float64(time.Second) / p.tps)
	first := start.Add(p.ttft)
	for i, piece := range pieces {
		if !wait(first.Add(time.Duration(i) * step)) {
			return
		}
		d := map[string]any{"content": piece}
		if i == 0 {
			d["role"] = "assistant"
		}
		chunk(d, nil, nil)
	}
	chunk(map[string]any{}, "stop", usage)
	bw.WriteString("data: [DONE]\n\n")
	bw.Flush()
	if fl != nil {
		fl.Flush()
	}
}
