package server_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

var testPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR tiny")

// multipartSend builds a send with files: a "text" field and "file" parts.
func multipartSend(t *testing.T, text string, files map[string][]byte, order ...string) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("text", text)
	for _, name := range order {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(files[name])
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

// TestAttachmentsOverHTTP: files sent with a message (multipart POST and
// the WebSocket send frame) are listed in the transcript and served to
// their owner with safe headers; another user gets 404.
func TestAttachmentsOverHTTP(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()

	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Seen."}})
	files := map[string][]byte{"notes.txt": []byte("<script>alert(1)</script>\n"), "dot.png": testPNG}
	body, ct := multipartSend(t, "Look at these", files, "notes.txt", "dot.png")
	r := o.raw("POST", "/api/conversations/"+conv+"/messages", body, map[string]string{"Content-Type": ct})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"turn_done"`) {
		t.Fatalf("multipart send = %d %s", r.Status, r.Body)
	}
	if got := e.llm.Requests()[0].Messages[0]; !strings.Contains(got.Content, "File notes.txt:\n```\n<script>") || len(got.Images) != 1 {
		t.Errorf("the model got %q with %d images", got.Content, len(got.Images))
	}
	msgs := o.messages(conv)
	atts, _ := msgs[0].(map[string]any)["attachments"].([]any)
	if len(atts) != 2 {
		t.Fatalf("transcript attachments = %v", msgs[0])
	}
	txt, img := atts[0].(map[string]any), atts[1].(map[string]any)
	if txt["name"] != "notes.txt" || txt["image"] != false || img["name"] != "dot.png" || img["image"] != true || img["mime"] != "image/png" {
		t.Errorf("attachments = %v", atts)
	}
	if _, ok := msgs[1].(map[string]any)["attachments"]; ok {
		t.Errorf("the reply lists attachments: %v", msgs[1])
	}

	// Served with the stored type, never sniffed; text downloads, images show.
	r = o.raw("GET", txt["url"].(string), nil, nil)
	if r.Status != 200 || !bytes.Equal(r.Body, files["notes.txt"]) || r.Header.Get("Content-Type") != attach.TextMIME ||
		r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("text file served as %d %v", r.Status, r.Header)
	}
	r = o.raw("GET", img["url"].(string), nil, nil)
	if r.Status != 200 || !bytes.Equal(r.Body, testPNG) || r.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline;") {
		t.Errorf("image served as %d %v", r.Status, r.Header)
	}

	// Another user: 404, as if it did not exist.
	m := e.member(o, "ana")
	for _, a := range []map[string]any{txt, img} {
		if r := m.raw("GET", a["url"].(string), nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("another user's attachment = %d, want 404", r.Status)
		}
	}
	if r := o.raw("GET", "/api/attachments/att_nope", nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown attachment = %d, want 404", r.Status)
	}

	// The web UI's way: base64 in the send frame; the user_message event lists them.
	ws := o.dial(t)
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"A dot."}})
	ws.send(t, map[string]any{"type": "send", "conversation_id": conv, "text": "",
		"attachments": []map[string]any{{"name": "dot.png", "data": base64.StdEncoding.EncodeToString(testPNG)}}})
	for {
		ev := ws.next(t)
		if ev.Type == "user_message" {
			if a, _ := ev.Message["attachments"].([]any); len(a) != 1 || a[0].(map[string]any)["name"] != "dot.png" {
				t.Errorf("user_message attachments = %v", ev.Message)
			}
		}
		if ev.Type == "error" {
			t.Fatalf("error: %v", ev.Error)
		}
		if ev.Type == "turn_done" {
			break
		}
	}
}

// TestAttachmentLimits: each limit answers with its status and a sentence
// that names the file, and nothing is stored.
func TestAttachmentLimits(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()
	bigText := bytes.Repeat([]byte("a"), attach.MaxTextBytes+1)
	bigPNG := append(append([]byte{}, testPNG...), make([]byte, attach.MaxImageSize)...)
	five := map[string][]byte{}
	var fiveNames []string
	for i := range 5 {
		n := fmt.Sprintf("f%d.txt", i)
		five[n], fiveNames = []byte("x"), append(fiveNames, n)
	}
	for _, tc := range []struct {
		name   string
		files  map[string][]byte
		order  []string
		status int
		code   string
		words  string
	}{
		{"text too big", map[string][]byte{"log.txt": bigText}, []string{"log.txt"}, 413, "payload_too_large", "File log.txt is 256 KB; text files can be at most 256 KB"},
		{"image too big", map[string][]byte{"huge.png": bigPNG}, []string{"huge.png"}, 413, "payload_too_large", "images can be at most 5 MB"},
		{"wrong type", map[string][]byte{"tool.exe": []byte("MZ\x90\x00\x03\x00")}, []string{"tool.exe"}, 415, "unsupported_media_type", "neither a text file nor a PNG, JPEG, GIF or WebP image"},
		{"named like an image", map[string][]byte{"photo.png": []byte("\x00\x01\x02")}, []string{"photo.png"}, 415, "unsupported_media_type", "File photo.png is neither"},
		{"too many", five, fiveNames, 413, "payload_too_large", "5 files attached; the limit is 4"},
	} {
		body, ct := multipartSend(t, "hi", tc.files, tc.order...)
		r := o.raw("POST", "/api/conversations/"+conv+"/messages", body, map[string]string{"Content-Type": ct})
		msg, _ := r.json(t)["error"].(map[string]any)["message"].(string)
		if r.Status != tc.status || r.code() != tc.code || !strings.Contains(msg, tc.words) {
			t.Errorf("%s: %d %s %q, want %d %s and %q", tc.name, r.Status, r.code(), msg, tc.status, tc.code, tc.words)
		}
	}
	if msgs := o.messages(conv); len(msgs) != 0 {
		t.Errorf("refused sends stored %d messages", len(msgs))
	}
	// On the socket: the same words, as an error event.
	ws := o.dial(t)
	ws.send(t, map[string]any{"type": "send", "conversation_id": conv, "text": "hi",
		"attachments": []map[string]any{{"name": "tool.exe", "data": base64.StdEncoding.EncodeToString([]byte("MZ\x90\x00"))}}})
	if ev := ws.next(t); ev.Type != "error" || ev.Error["code"] != "unsupported_media_type" {
		t.Errorf("socket send of a binary = %+v", ev)
	}
}
