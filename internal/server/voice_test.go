package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/speech/speechtest"
	"github.com/os1ai/os1/internal/testrig"
	"github.com/os1ai/os1/internal/voice"
)

// newVoiceEnv is newEnv with a voice pipeline of fixed-latency engines: a
// second server on the same database, store and companion, since Deps are
// fixed once a server is built.
func newVoiceEnv(t *testing.T, stt string) *env {
	t.Helper()
	e := newEnv(t, true)
	d := e.srv.Deps
	d.Voice = voice.New(voice.Deps{Companion: d.Companion, Conversations: e.db,
		STT: &speechtest.Fixed{Text: stt}, TTS: &speechtest.Tone{}, Observer: d.Metrics},
		voice.Options{Grace: 300 * time.Millisecond, MidSentenceGrace: 600 * time.Millisecond})
	e.srv = server.New(d)
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = e.srv.HTTPServer("")
	hs.Start()
	t.Cleanup(hs.Close)
	e.http = hs
	return e
}

type voiceFrame struct {
	Type           string         `json:"type"`
	Text           string         `json:"text"`
	Final          bool           `json:"final"`
	State          string         `json:"state"`
	MessageID      string         `json:"message_id"`
	ConversationID string         `json:"conversation_id"`
	Samples        int            `json:"samples"`
	SampleRate     int            `json:"sample_rate"`
	Heard          string         `json:"heard"`
	Message        map[string]any `json:"message"`
	Error          map[string]any `json:"error"`
	FirstAudioMS   *int64         `json:"first_audio_ms"`
	TranscriptMS   *int64         `json:"transcript_ms"`
	PCM            []byte         `json:"-"`
}

type voiceConn struct {
	t   *testing.T
	c   *websocket.Conn
	ctx context.Context
}

func (c *client) dialVoice(t *testing.T) *voiceConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	h := http.Header{"Origin": {c.e.http.URL}}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.e.http.URL, "http")+"/api/voice", &websocket.DialOptions{HTTPClient: c.hc, HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	conn.SetReadLimit(8 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	return &voiceConn{t: t, c: conn, ctx: ctx}
}

func (v *voiceConn) send(f any) {
	v.t.Helper()
	b, _ := json.Marshal(f)
	if err := v.c.Write(v.ctx, websocket.MessageText, b); err != nil {
		v.t.Fatal(err)
	}
}

func (v *voiceConn) audio(p audio.PCM) {
	v.t.Helper()
	// 100 ms a frame, as a browser might send.
	n := p.Rate / 10
	for i := 0; i < len(p.Samples); i += n {
		if err := v.c.Write(v.ctx, websocket.MessageBinary, audio.Bytes(p.Samples[i:min(i+n, len(p.Samples))])); err != nil {
			v.t.Fatal(err)
		}
	}
}

func (v *voiceConn) next() voiceFrame {
	v.t.Helper()
	typ, b, err := v.c.Read(v.ctx)
	if err != nil {
		v.t.Fatalf("read: %v", err)
	}
	if typ == websocket.MessageBinary {
		return voiceFrame{Type: "binary", PCM: b}
	}
	var f voiceFrame
	if err := json.Unmarshal(b, &f); err != nil {
		v.t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

// until reads frames up to and including the first of type typ.
func (v *voiceConn) until(typ string) []voiceFrame {
	v.t.Helper()
	var fs []voiceFrame
	for {
		f := v.next()
		fs = append(fs, f)
		if f.Type == typ {
			return fs
		}
	}
}

func frameTypes(fs []voiceFrame) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Type)
	}
	return strings.Join(s, " ")
}

func TestVoiceCall(t *testing.T) {
	e := newVoiceEnv(t, "What a lovely morning.")
	o := e.owner()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"It is", " lovely. ", "Shall we walk?"}})
	v := o.dialVoice(t)
	v.send(map[string]any{"type": "start", "sample_rate": 16000, "output_rate": 22050})
	if r := v.next(); r.Type != "ready" {
		t.Fatalf("first frame %+v", r)
	}
	v.audio(audio.Concat(16000, audio.Silence(16000, 200*time.Millisecond), speechtest.ToneOf(16000, 300, 600*time.Millisecond), audio.Silence(16000, time.Second)))
	fs := v.until("timeline")
	var conv, final string
	var spoken []string
	for i, f := range fs {
		switch f.Type {
		case "transcript":
			if f.Final {
				final = f.Text
			}
		case "conversation":
			conv = f.ConversationID
		case "audio":
			spoken = append(spoken, f.Text)
			if pcm := fs[i+1]; pcm.Type != "binary" || len(pcm.PCM) != 2*f.Samples || f.SampleRate != 22050 {
				t.Fatalf("audio %+v then %s of %d bytes", f, pcm.Type, len(pcm.PCM))
			}
			if want := len(strings.Fields(f.Text)) * 22050 / 4; f.Samples != want {
				t.Errorf("%q: %d samples, want %d", f.Text, f.Samples, want)
			}
		case "error":
			t.Fatalf("error %+v", f.Error)
		}
	}
	got := frameTypes(fs)
	for _, want := range []string{"vad vad transcript", "transcript conversation user_message", "assistant_start", "delta", "audio binary", "audio_done", "timeline"} {
		if !strings.Contains(got, want) {
			t.Errorf("frames lack %q: %s", want, got)
		}
	}
	if final != "What a lovely morning." || strings.Join(spoken, "|") != "It is lovely.|Shall we walk?" {
		t.Fatalf("heard %q, spoke %q", final, spoken)
	}
	if tl := fs[len(fs)-1]; tl.FirstAudioMS == nil || tl.TranscriptMS == nil {
		t.Fatalf("timeline %+v", tl)
	}
	msgs := o.messages(conv)
	if len(msgs) != 2 || msgs[0].(map[string]any)["content"] != "What a lovely morning." || msgs[1].(map[string]any)["content"] != "It is lovely. Shall we walk?" {
		t.Fatalf("stored %+v", msgs)
	}
	// The client played it all, then hangs up.
	reply := msgs[1].(map[string]any)["id"]
	v.send(map[string]any{"type": "playback", "message_id": reply, "state": "started"})
	v.send(map[string]any{"type": "playback", "message_id": reply, "state": "finished", "played_ms": 2250})
	v.send(map[string]any{"type": "stop"})
	if typ, b, err := v.c.Read(v.ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after stop: %v %v %.200s", err, typ, b)
	}
	met := string(o.raw("GET", "/metrics", nil, metricsAuth).Body)
	for _, want := range []string{`os1_voice_stage_seconds_count{stage="first_audio"} 1`, `os1_voice_stage_seconds_count{stage="transcript"} 1`} {
		if !strings.Contains(met, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestVoiceBargeIn(t *testing.T) {
	e := newVoiceEnv(t, "Count for me.")
	o := e.owner()
	conv := o.newConversation()
	gate := llmtest.NewGate()
	defer gate.Release()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"One two three four. ", "Five six seven eight. ", "Nine."}, Hold: gate, HoldAfter: 2})
	v := o.dialVoice(t)
	v.send(map[string]any{"type": "start", "conversation_id": conv, "sample_rate": 16000, "vad": "client"})
	if r := v.next(); r.Type != "ready" || r.ConversationID != conv {
		t.Fatalf("ready %+v", r)
	}
	v.send(map[string]any{"type": "speech_start"})
	v.audio(speechtest.ToneOf(16000, 300, 500*time.Millisecond))
	v.send(map[string]any{"type": "speech_end"})
	v.until("audio")
	second := v.until("audio")
	<-gate.Reached()
	// Playback got 1.5 s in: the first sentence and half of the second.
	v.send(map[string]any{"type": "playback", "message_id": second[len(second)-1].MessageID, "state": "started"})
	v.send(map[string]any{"type": "barge_in", "message_id": second[len(second)-1].MessageID, "played_ms": 1500})
	fs := v.until("interrupted")
	if in := fs[len(fs)-1]; in.Heard != "One two three four. Five six" {
		t.Fatalf("interrupted %+v", in)
	}
	m := o.messages(conv)[1].(map[string]any)
	if m["content"] != "One two three four. Five six" || m["status"] != "interrupted" {
		t.Fatalf("stored %+v", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.llm.WaitIdle(ctx); err != nil {
		t.Fatalf("the model call goes on: %v", err)
	}
	if met := string(o.raw("GET", "/metrics", nil, metricsAuth).Body); !strings.Contains(met, `os1_voice_barge_ins_total{by="client"} 1`) {
		t.Error("barge-in not counted")
	}
}

func TestVoiceDisconnectMidTurn(t *testing.T) {
	e := newVoiceEnv(t, "Tell me a story.")
	o := e.owner()
	conv := o.newConversation()
	gate := llmtest.NewGate()
	defer gate.Release()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Once upon a time. ", "There was"}, Hold: gate, HoldAfter: 1})
	v := o.dialVoice(t)
	v.send(map[string]any{"type": "start", "conversation_id": conv, "sample_rate": 16000, "vad": "client"})
	v.next()
	v.send(map[string]any{"type": "speech_start"})
	v.audio(speechtest.ToneOf(16000, 300, 500*time.Millisecond))
	v.send(map[string]any{"type": "speech_end"})
	v.until("audio")
	<-gate.Reached()
	v.c.CloseNow()
	// The reply ends with a proper status, never left streaming, and
	// holds what was heard: nothing, the client left at once.
	testrig.Eventually(t, 10*time.Second, "the reply stored interrupted and empty after the client left", func() (bool, string) {
		m := o.messages(conv)[1].(map[string]any)
		return m["status"] == "interrupted" && m["content"] == "", fmt.Sprint(m)
	})
}

func TestVoiceIsolation(t *testing.T) {
	e := newVoiceEnv(t, "Let me in.")
	a := e.owner()
	b := e.member(a, "amy")
	conv := a.newConversation()
	v := b.dialVoice(t)
	v.send(map[string]any{"type": "start", "conversation_id": conv, "sample_rate": 16000})
	if f := v.next(); f.Type != "error" || f.Error["code"] != "not_found" {
		t.Fatalf("B starting a call in A's conversation: %+v", f)
	}
	// Not started: audio is refused, nothing reaches the model.
	v.audio(speechtest.ToneOf(16000, 300, 100*time.Millisecond))
	if f := v.next(); f.Type != "error" || f.Error["code"] != "bad_request" {
		t.Fatalf("audio after a refused start: %+v", f)
	}
	if len(e.llm.Requests()) != 0 || len(a.messages(conv)) != 0 {
		t.Fatal("B's call touched A's conversation")
	}
}

func TestVoiceBadInput(t *testing.T) {
	e := newVoiceEnv(t, "Hi.")
	o := e.owner()
	v := o.dialVoice(t)
	if err := v.c.Write(v.ctx, websocket.MessageBinary, []byte{0, 0}); err != nil {
		t.Fatal(err)
	}
	if f := v.next(); f.Type != "error" || f.Error["code"] != "bad_request" {
		t.Fatalf("audio before start: %+v", f)
	}
	v.send(map[string]any{"type": "start", "sample_rate": 1000})
	if f := v.next(); f.Type != "error" || f.Error["code"] != "bad_audio" {
		t.Fatalf("bad rate: %+v", f)
	}
	v.send(map[string]any{"type": "start", "sample_rate": 16000})
	v.next()
	if err := v.c.Write(v.ctx, websocket.MessageBinary, []byte{0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if f := v.next(); f.Type != "error" || f.Error["code"] != "bad_audio" {
		t.Fatalf("odd bytes: %+v", f)
	}
	// Silence is no turn.
	v.audio(audio.Silence(16000, time.Second))
	_ = v.c.Write(v.ctx, websocket.MessageBinary, make([]byte, 2<<20))
	for {
		_, _, err := v.c.Read(v.ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
				t.Fatalf("a frame over the limit: %v, want close 1009", err)
			}
			break
		}
		t.Fatal("a frame came after silence")
	}
	if len(e.llm.Requests()) != 0 {
		t.Fatal("silence reached the model")
	}
}

func TestVoiceAuthAndUnavailable(t *testing.T) {
	off := newEnv(t, true)
	r := off.owner().raw("GET", "/api/voice", nil, nil)
	if r.Status != 503 || r.code() != "voice_unavailable" || !strings.Contains(string(r.Body), "speech-to-text") {
		t.Fatalf("without voice: %d %s", r.Status, r.Body)
	}
	e := newVoiceEnv(t, "Hi.")
	o := e.owner()
	url := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/voice"
	ctx := context.Background()
	if _, resp, err := websocket.Dial(ctx, url, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("anonymous dial: %v %v", err, resp)
	}
	h := http.Header{"Origin": {"http://evil.example"}}
	if _, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: o.hc, HTTPHeader: h}); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("cross-site dial with the cookie: %v %v", err, resp)
	}
}

// A message typed in the chat while a call is open in the same conversation
// reaches the call as captions (no speech); a chat of another user does not.
func TestVoiceCallCaptionsTheChat(t *testing.T) {
	e := newVoiceEnv(t, "unused")
	o := e.owner()
	amy := e.member(o, "amy")
	conv := o.newConversation()
	v := o.dialVoice(t)
	v.send(map[string]any{"type": "start", "conversation_id": conv, "sample_rate": 16000})
	if r := v.next(); r.Type != "ready" {
		t.Fatalf("first frame %+v", r)
	}
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Amy's answer."}}, llmtest.Reply{Chunks: []string{"Typed ", "back."}})
	amy.turn("/api/conversations/"+amy.newConversation()+"/messages", map[string]string{"text": "amy's own chat"})
	o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "typed in the chat"})
	fs := v.until("turn_done")
	if got, want := frameTypes(fs), "conversation user_message assistant_start"; !strings.HasPrefix(got, want) || strings.Contains(got, "audio") {
		t.Fatalf("frames %s, want captions of the chat's turn only", got)
	}
	for _, f := range fs {
		if f.ConversationID != conv {
			t.Fatalf("%s of conversation %q on the call of %q", f.Type, f.ConversationID, conv)
		}
	}
	if um := fs[1].Message["content"]; um != "typed in the chat" {
		t.Fatalf("user message %v", um)
	}
	if done := fs[len(fs)-2]; done.Type != "assistant_done" || done.Message["content"] != "Typed back." {
		t.Fatalf("reply %+v", done)
	}
}
