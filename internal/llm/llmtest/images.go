package llmtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm"
)

// imageMIMEs are the image types both protocols accept.
var imageMIMEs = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// oaPart is one OpenAI content part: text, or an image as a data URL.
type oaPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url"`
}

func (c *oaContent) add(p oaPart) error {
	switch p.Type {
	case "text":
		c.text += p.Text
	case "image_url":
		if p.ImageURL == nil {
			return fmt.Errorf("an image_url part without image_url")
		}
		im, err := parseDataURL(p.ImageURL.URL)
		if err != nil {
			return err
		}
		c.images = append(c.images, im)
	default:
		return fmt.Errorf("content part of unknown type %q", p.Type)
	}
	return nil
}

// parseDataURL reads data:<mime>;base64,<data>, the only image URL a client
// of this server may send (it cannot fetch anything).
func parseDataURL(u string) (llm.Image, error) {
	rest, ok := strings.CutPrefix(u, "data:")
	head, data, ok2 := strings.Cut(rest, ",")
	mime, ok3 := strings.CutSuffix(head, ";base64")
	if !ok || !ok2 || !ok3 {
		return llm.Image{}, fmt.Errorf("image url %.40q is not a base64 data: URL", u)
	}
	if !imageMIMEs[mime] {
		return llm.Image{}, fmt.Errorf("image url has media type %q", mime)
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return llm.Image{}, fmt.Errorf("image url data: %w", err)
	}
	return llm.Image{MIME: mime, Data: b}, nil
}

// anSource is an Anthropic image block's source.
type anSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
}

func (b anBlock) image() (llm.Image, error) {
	if b.Source == nil || b.Source.Type != "base64" {
		return llm.Image{}, fmt.Errorf("an image block without a base64 source")
	}
	if !imageMIMEs[b.Source.MediaType] {
		return llm.Image{}, fmt.Errorf("image block has media_type %q", b.Source.MediaType)
	}
	data, err := base64.StdEncoding.DecodeString(b.Source.Data)
	if err != nil {
		return llm.Image{}, fmt.Errorf("image block data: %w", err)
	}
	return llm.Image{MIME: b.Source.MediaType, Data: data}, nil
}

// imagesArrive checks that a user turn's images reach the server as the
// protocol's image parts, beside the text, in order and byte for byte.
func imagesArrive(t *testing.T, srv *Server, p llm.Provider) {
	png := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	jpeg := []byte("\xff\xd8\xff\xe0 a jpeg")
	srv.Enqueue(Reply{Chunks: []string{"A cat."}})
	req := llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "Earlier."},
		{Role: llm.RoleAssistant, Content: "Yes?"},
		{Role: llm.RoleUser, Content: "What is in these?", Images: []llm.Image{{MIME: "image/png", Data: png}, {MIME: "image/jpeg", Data: jpeg}}},
	}}
	if _, err := Collect(t.Context(), p, req); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()
	if len(got) != 1 {
		t.Fatalf("server got %d requests, want 1", len(got))
	}
	msgs := got[0].Messages
	if len(msgs) != 3 || msgs[2].Content != "What is in these?" || len(msgs[0].Images) != 0 {
		t.Fatalf("messages = %s", describe(msgs))
	}
	ims := msgs[2].Images
	if len(ims) != 2 || ims[0].MIME != "image/png" || !bytes.Equal(ims[0].Data, png) ||
		ims[1].MIME != "image/jpeg" || !bytes.Equal(ims[1].Data, jpeg) {
		t.Errorf("images = %+v, want the png then the jpeg", ims)
	}
	// Text-only turns stay plain strings: servers without vision read those.
	if body := string(got[0].Body); got[0].Protocol == "openai" && !strings.Contains(body, `"content":"Earlier."`) {
		t.Errorf("a text-only turn was not sent as a plain string: %s", body)
	}
}

// imageRefusalInPlainWords checks that a model that cannot see images is
// reported as such, with what to do, and is not retried.
func imageRefusalInPlainWords(t *testing.T, srv *Server, p llm.Provider) {
	srv.Enqueue(Reply{Status: 400, Error: "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj"})
	req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Look", Images: []llm.Image{{MIME: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")}}}}}
	e := wantError(t, p, req, llm.KindBadRequest)
	if !strings.Contains(e.Message, "cannot look at images") || !strings.Contains(e.Message, "choose a model that can see images") {
		t.Errorf("message = %q, want it to say the model cannot look at images and what to do", e.Message)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("server got %d requests, want 1 (a refusal is not retried)", n)
	}
}
