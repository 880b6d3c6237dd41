package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

func msgField(m any, k string) string {
	v, _ := m.(map[string]any)[k].(string)
	return v
}

func branchOf(m any) map[string]any {
	b, _ := m.(map[string]any)["branch"].(map[string]any)
	return b
}

func contents(msgs []any) string {
	var out []string
	for _, m := range msgs {
		out = append(out, msgField(m, "content"))
	}
	return strings.Join(out, " | ")
}

func lastSaid(e *env) string {
	reqs := e.llm.Requests()
	var out []string
	for _, m := range reqs[len(reqs)-1].Messages {
		out = append(out, m.Content)
	}
	return strings.Join(out, " | ")
}

func TestBranchEndpoints(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Cats purr."}}, llmtest.Reply{Chunks: []string{"Dogs bark."}})
	o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "Cats?"})
	o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "Dogs?"})
	old := o.messages(conv)
	for _, m := range old {
		if branchOf(m) != nil {
			t.Fatalf("a message without versions has a branch: %+v", m)
		}
	}
	base := "/api/conversations/" + conv + "/messages/"
	dogs, dogsReply := msgField(old[2], "id"), msgField(old[3], "id")

	// Edit: the new question is answered, the old one is version 1 of 2.
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Birds sing."}})
	evs := o.turn(base+dogs+"/edit", map[string]string{"text": "Birds?"})
	if evs[1].Type != "user_message" || evs[1].Message["content"] != "Birds?" {
		t.Fatalf("edit events start %+v", evs[:2])
	}
	if got := lastSaid(e); got != "Cats? | Cats purr. | Birds?" {
		t.Fatalf("the model was sent %q", got)
	}
	msgs := o.messages(conv)
	if got := contents(msgs); got != "Cats? | Cats purr. | Birds? | Birds sing." {
		t.Fatalf("after edit: %s", got)
	}
	b := branchOf(msgs[2])
	if b == nil || b["index"] != 2.0 || b["count"] != 2.0 || b["prev_id"] != dogs || b["next_id"] != nil {
		t.Fatalf("edited message's branch = %+v", b)
	}

	// Show the old version: the transcript is answered at once.
	shown := o.want(200, "POST", base+dogs+"/show", nil)["messages"].([]any)
	if got := contents(shown); got != "Cats? | Cats purr. | Dogs? | Dogs bark." {
		t.Fatalf("after show: %s", got)
	}
	if b := branchOf(shown[2]); b["index"] != 1.0 || b["next_id"] != msgField(msgs[2], "id") {
		t.Fatalf("old version's branch = %+v", b)
	}

	// Regenerate the old reply: same question, a second version of the reply.
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Dogs wag."}})
	evs = o.turn(base+dogsReply+"/regenerate", nil)
	for _, ev := range evs {
		if ev.Type == "user_message" {
			t.Fatalf("regenerate stored a user message: %+v", ev)
		}
	}
	if got := lastSaid(e); got != "Cats? | Cats purr. | Dogs?" {
		t.Fatalf("the model was sent %q (the old reply must not be in it)", got)
	}
	msgs = o.messages(conv)
	if got := contents(msgs); got != "Cats? | Cats purr. | Dogs? | Dogs wag." {
		t.Fatalf("after regenerate: %s", got)
	}
	if b := branchOf(msgs[3]); b["index"] != 2.0 || b["count"] != 2.0 || b["prev_id"] != dogsReply {
		t.Fatalf("regenerated reply's branch = %+v", b)
	}

	// Wrong targets.
	other := o.newConversation()
	for _, tc := range []struct {
		path   string
		body   any
		status int
	}{
		{base + dogsReply + "/edit", map[string]string{"text": "x"}, 400},
		{base + dogs + "/regenerate", nil, 400},
		{base + dogs + "/edit", map[string]string{"text": "  "}, 400},
		{base + "msg_nope/edit", map[string]string{"text": "x"}, 404},
		{base + "msg_nope/show", nil, 404},
		{"/api/conversations/" + other + "/messages/" + dogs + "/edit", map[string]string{"text": "x"}, 404},
		{"/api/conversations/" + other + "/messages/" + dogsReply + "/regenerate", nil, 404},
		{"/api/conversations/" + other + "/messages/" + dogs + "/show", nil, 404},
	} {
		if r := o.do("POST", tc.path, tc.body); r.Status != tc.status {
			t.Errorf("POST %s = %d %s, want %d", tc.path, r.Status, r.Body, tc.status)
		}
	}
	if n := len(e.llm.Requests()); n != 4 {
		t.Errorf("refused requests reached the model: %d requests, want 4", n)
	}
}

func TestBranchOverWebSocket(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Cats purr."}})
	o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "Cats?"})
	old := o.messages(conv)
	ws := o.dial(t)
	read := func() string {
		var types []string
		for {
			ev := ws.next(t)
			types = append(types, ev.Type)
			if ev.Type == "turn_done" || (ev.Type == "error" && len(types) == 1) {
				return strings.Join(types, " ")
			}
		}
	}
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Cats nap."}})
	ws.send(t, map[string]any{"type": "regenerate", "conversation_id": conv, "message_id": msgField(old[1], "id")})
	if got := read(); got != "conversation assistant_start delta assistant_done turn_done" {
		t.Fatalf("regenerate events: %s", got)
	}
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Fish swim."}})
	ws.send(t, map[string]any{"type": "edit", "conversation_id": conv, "message_id": msgField(old[0], "id"), "text": "Fish?"})
	if got := read(); got != "conversation user_message assistant_start delta assistant_done turn_done" {
		t.Fatalf("edit events: %s", got)
	}
	if got := contents(o.messages(conv)); got != "Fish? | Fish swim." {
		t.Fatalf("path: %s", got)
	}
	ws.send(t, map[string]any{"type": "edit", "conversation_id": conv, "message_id": msgField(old[1], "id"), "text": "x"})
	if ev := ws.next(t); ev.Type != "error" || ev.Error["code"] != "bad_request" {
		t.Fatalf("editing her reply over the socket: %+v", ev)
	}
}

func TestSpeakReadsAReplyAloud(t *testing.T) {
	e := newVoiceEnv(t, "")
	o := e.owner()
	conv := o.newConversation()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"**Hello** there. How are you today?\n\n```\ncode is never read\n```"}},
		llmtest.Reply{Chunks: []string{"```\nonly code\n```"}})
	o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "Hi"})
	o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "Code?"})
	msgs := o.messages(conv)
	base := "/api/conversations/" + conv + "/messages/"

	r := o.do("POST", base+msgField(msgs[1], "id")+"/speak", nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("speak = %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	pcm, err := audio.DecodeWAV(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	// speechtest.Tone speaks 250 ms a word: "Hello there." and "How are you
	// today?" are 6 words; the code block and the markdown marks are not read.
	if d := pcm.Duration().Milliseconds(); d != 1500 {
		t.Fatalf("audio lasts %d ms, want 1500 (6 words)", d)
	}
	if r := o.do("POST", base+msgField(msgs[3], "id")+"/speak", nil); r.Status != http.StatusBadRequest {
		t.Fatalf("speaking a code-only reply = %d %s, want 400", r.Status, r.Body)
	}

	// Without a speech engine the server says so.
	plain := newEnv(t, true)
	po := plain.owner()
	pc := po.newConversation()
	plain.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hello."}})
	po.turn("/api/conversations/"+pc+"/messages", map[string]string{"text": "Hi"})
	pm := po.messages(pc)
	if r := po.do("POST", "/api/conversations/"+pc+"/messages/"+msgField(pm[1], "id")+"/speak", nil); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("speak without TTS = %d %s", r.Status, r.Body)
	}
}
