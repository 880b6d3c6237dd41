package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
)

// sttRate is the rate audio is sent at: whisper's own, so servers do not
// resample and uploads stay small.
const sttRate = 16000

// Transcriber is a speech.Transcriber backed by POST /v1/audio/transcriptions.
type Transcriber struct{ c *client }

var _ speech.Transcriber = (*Transcriber)(nil)

// NewTranscriber checks cfg and returns the transcriber; it does not connect.
func NewTranscriber(cfg Config) (*Transcriber, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Transcriber{c: c}, nil
}

// Name is "openai <base URL> (<model>)".
func (t *Transcriber) Name() string {
	return fmt.Sprintf("openai %s (%s)", t.c.base, t.c.cfg.STTModel)
}

// Transcribe uploads pcm as a 16 kHz mono 16-bit WAV file and returns the
// text of the answer: JSON {"text": …}, or a text/plain body from servers
// that answer that way.
func (t *Transcriber) Transcribe(ctx context.Context, pcm audio.PCM) (string, error) {
	if len(pcm.Samples) == 0 {
		return "", speech.ErrNoAudio
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("openai speech %s: %w", t.c.base, err)
	}
	if speech.Silent(pcm) {
		return "", nil
	}
	body, contentType, err := t.form(audio.Resample(pcm, sttRate))
	if err != nil {
		return "", err
	}
	const path = "/v1/audio/transcriptions"
	a, err := t.c.post(ctx, path, contentType, body, MaxJSONBytes)
	if err != nil {
		return "", err
	}
	if mt, _, _ := mime.ParseMediaType(a.contentType); mt == "text/plain" {
		return strings.TrimSpace(string(a.body)), nil
	}
	var out struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		return "", fmt.Errorf("openai speech %s%s: the answer is not a JSON transcript (%.80q): %w", t.c.base, path, a.body, err)
	}
	if out.Text == nil {
		return "", fmt.Errorf("openai speech %s%s: the answer has no text field (%.80q)", t.c.base, path, a.body)
	}
	return strings.TrimSpace(*out.Text), nil
}

// form is the multipart body: file, model, response_format and language.
func (t *Transcriber) form(pcm audio.PCM) ([]byte, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="speech.wav"`)
	h.Set("Content-Type", "audio/wav")
	part, err := w.CreatePart(h)
	if err == nil {
		_, err = part.Write(audio.WAV(pcm))
	}
	fields := [][2]string{{"model", t.c.cfg.STTModel}, {"response_format", "json"}}
	if t.c.cfg.Language != "" {
		fields = append(fields, [2]string{"language", t.c.cfg.Language})
	}
	for _, f := range fields {
		if err == nil {
			err = w.WriteField(f[0], f[1])
		}
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, "", fmt.Errorf("openai speech: building the upload: %w", err)
	}
	return b.Bytes(), w.FormDataContentType(), nil
}
