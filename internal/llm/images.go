package llm

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Image is a picture in a user turn, sent to models that can see. Each
// protocol carries it as its own kind of content part: OpenAI-compatible
// servers as {"type":"image_url","image_url":{"url":"data:<mime>;base64,…"}},
// Anthropic as {"type":"image","source":{"type":"base64",…}}.
type Image struct {
	MIME string // image/png, image/jpeg, image/gif or image/webp
	Data []byte
}

// DataURL is the image as a data: URL, the form OpenAI-compatible servers read.
func (im Image) DataURL() string {
	return "data:" + im.MIME + ";base64," + base64.StdEncoding.EncodeToString(im.Data)
}

type oaPart struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url,omitempty"`
}

// MarshalJSON sends content as a plain string, the form every
// OpenAI-compatible server reads, unless the message carries images: then
// content is an array of parts, the text first.
func (m oaMessage) MarshalJSON() ([]byte, error) {
	type plain oaMessage
	if len(m.Images) == 0 {
		return json.Marshal(plain(m))
	}
	var parts []oaPart
	if m.Content != "" {
		parts = append(parts, oaPart{Type: "text", Text: m.Content})
	}
	for _, im := range m.Images {
		p := oaPart{Type: "image_url", ImageURL: &struct {
			URL string `json:"url"`
		}{URL: im.DataURL()}}
		parts = append(parts, p)
	}
	return json.Marshal(struct {
		plain
		Content []oaPart `json:"content"` // shallower than plain's: it wins
	}{plain(m), parts})
}

type anImageSource struct {
	Type      string `json:"type"` // "base64"
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
}

// anImageBlocks are a user turn's images as Anthropic content blocks; they
// go before the text, as Anthropic advises.
func anImageBlocks(ims []Image) []anBlock {
	var blocks []anBlock
	for _, im := range ims {
		blocks = append(blocks, anBlock{Type: "image", Source: &anImageSource{Type: "base64",
			MediaType: im.MIME, Data: base64.StdEncoding.EncodeToString(im.Data)}})
	}
	return blocks
}

// refusesImages reports whether a 4xx answer's text says the model cannot
// take images (llama.cpp without an mmproj: "image input is not supported";
// OpenAI: "image_url is only supported by certain models"; "does not
// support vision").
func refusesImages(detail string) bool {
	d := strings.ToLower(detail)
	for _, w := range []string{"image", "vision", "multimodal", "mmproj"} {
		if strings.Contains(d, w) {
			return true
		}
	}
	return false
}

// imageRefusal rewrites a 4xx failure that refuses images in plain words.
func (e *endpoint) imageRefusal(f *failure) {
	if f.kind != KindBadRequest || !refusesImages(f.detail) {
		return
	}
	f.msg = "the " + e.where + " cannot look at images (it said: " + f.detail + ")"
	f.hint = "choose a model that can see images, or send the message without them"
}
