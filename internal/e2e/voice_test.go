package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// The user's line, spoken by festival into Chromium's fake microphone.
const voiceLine = "I planted tomatoes in the garden today."

// voiceReply is her first answer: long enough (about twenty seconds of
// speech) that the fake microphone's next loop of voiceLine comes while she
// is still talking, which is the barge-in.
var voiceReply = []string{
	"Tomatoes are a lovely thing to grow.", " They like a warm and sunny spot.",
	" Water them in the morning, at the roots.", " Give them a stake to lean on as they climb.",
	" Pinch out the little shoots between the stems.", " Feed them once a week when the flowers come.",
	" Pick them when they are red and soft.", " Tell me how the first one tastes.",
}

// The microphone file: voiceLead of silence (the call goes live meanwhile:
// loading the VAD takes a moment, and a person waits for "Listening" too),
// voiceLine, then voiceSilence before it loops. Her reply must still be
// playing when the line comes again.
const (
	voiceLead    = 3 * time.Second
	voiceSilence = 12 * time.Second
)

// TestVoiceCall calls her from the chat with a fake microphone that says
// voiceLine: the transcript shows as a caption, her reply is heard, the next
// utterance stops her mid-reply (barge-in) and the stored reply keeps only
// what was heard. Typing still works in the same conversation afterwards.
//
// It needs Chromium, festival's text2wave (to make the speech) and the
// engines os1 serve uses for the call (PocketSphinx, festival). The Silero
// VAD assets in the cache (scripts/assets.sh voice) make the browser detect
// speech itself; without them the call must fall back to the server's VAD
// and say why. Anything missing skips, unless OS1_E2E_REQUIRE=1.
func TestVoiceCall(t *testing.T) {
	requireTools(t, "text2wave", "pocketsphinx_continuous")
	cache, vadAssets := voiceCache(t)
	wav := speechWAV(t, voiceLine, voiceLead, voiceSilence)
	b := newMicBrowser(t, wav, true)

	var chats atomic.Int32
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		if chats.Add(1) == 1 {
			return llmtest.Reply{Chunks: voiceReply, ChunkDelay: 20 * time.Millisecond}
		}
		return llmtest.Reply{Chunks: []string{"I", " am", " listening."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel,
		"OS1_CACHE_DIR="+cache, "OS1_STT=pocketsphinx", "OS1_TTS=festival")
	owner := newClient(t, p.URL)
	owner.setup(p.SetupToken, ownerName, ownerPassword, ownerDisplay)
	owner.waitModel()
	name := owner.onboard()
	tab := b.ctx
	b.signIn(tab, p.URL)

	// Call. The call bar says the call is live and how speech is detected.
	b.do(tab, "start a call", chromedp.WaitVisible(css(`#call`)), chromedp.Click(css(`#call`)))
	state := poll[string](b, tab, "the call goes live or fails",
		`(() => { const s = document.querySelector('#call-bar').dataset.state; return s === 'live' || s === 'ended' ? s : ''; })()`)
	if state != "live" {
		b.fail(tab, "the call goes live", errText(eval[string](b, tab, "read the call error", `document.querySelector('#call-error').textContent`)))
	}
	vad := eval[string](b, tab, "read the VAD mode", `document.querySelector('#call-bar').dataset.vad`)
	note := eval[string](b, tab, "read the call note", `document.querySelector('#call-note').hidden ? '' : document.querySelector('#call-note').textContent`)
	switch {
	case vadAssets && vad != "client":
		t.Errorf("the VAD assets are in %s but the call uses vad %q (note %q), want client", cache, vad, note)
	case !vadAssets && (vad != "server" || !strings.Contains(note, "voice assets missing")):
		t.Errorf("without VAD assets the call uses vad %q with note %q, want server and a note that says voice assets missing", vad, note)
	}
	t.Logf("voice activity detection: %s %s", vad, note)

	// She hears the line: a caption shows, then the stored message.
	said := poll[string](b, tab, "a caption of what was said appears",
		`(() => { const m = document.querySelector('#messages .msg[data-role="user"]'); return m ? m.querySelector('.msg-text').textContent.trim() : ''; })()`)
	t.Logf("caption: %q", said)
	poll[bool](b, tab, "the caption becomes the stored user message",
		`!!document.querySelector('#messages .msg[data-role="user"]:not([data-voice])[data-id]:not([data-id=""])')`)
	convID := poll[string](b, tab, "the call's conversation is open",
		`decodeURIComponent((location.hash.match(/^#\/c\/([^/?]+)/) || [])[1] || '')`)

	// Her reply is heard, then cut by the next loop of the line.
	poll[bool](b, tab, "her reply plays", `window.__os1voice.sentencesStarted >= 1`)
	poll[bool](b, tab, "the call bar says she is speaking", `document.querySelector('#call-bar').dataset.activity === 'speaking'`)
	b.screenshot(tab, "voice-1-speaking")
	type bargeIn struct {
		MessageID string `json:"message_id"`
		PlayedMS  int    `json:"played_ms"`
		By        string `json:"by"`
	}
	cut := poll[[]bargeIn](b, tab, "speaking over her stops her reply",
		`window.__os1voice.bargeIns.length ? window.__os1voice.bargeIns : null`)[0]
	if playing := eval[bool](b, tab, "is anything still playing", `window.__os1voice.playing`); playing {
		t.Error("audio still plays after the barge-in")
	}
	if cut.PlayedMS <= 0 {
		t.Errorf("barge-in reported played_ms %d, want the share of her reply that was heard", cut.PlayedMS)
	}
	wantBy := "client"
	if vad == "server" {
		wantBy = "server"
	}
	if cut.By != wantBy {
		t.Errorf("the barge-in came from %q, want %q (vad %s)", cut.By, wantBy, vad)
	}
	t.Logf("barge-in after %d ms of her reply (detected by the %s)", cut.PlayedMS, cut.By)
	b.do(tab, "the cut reply is marked interrupted",
		chromedp.WaitVisible(css(`#messages .msg[data-role="assistant"][data-id="`+cut.MessageID+`"][data-status="interrupted"] .msg-note`)))
	shown := eval[string](b, tab, "read the cut reply",
		`document.querySelector('#messages .msg[data-id="`+cut.MessageID+`"] .msg-text').textContent`)

	// The stored reply keeps what was heard, no more.
	full := strings.Join(voiceReply, "")
	var stored message
	eventually(t, "the stored reply is interrupted", func() (bool, string) {
		for _, m := range owner.conversation(convID).Messages {
			if m.ID == cut.MessageID {
				stored = m
			}
		}
		return stored.Status == "interrupted", stored.Status
	})
	if !wordPrefix(stored.Content, full) || len(strings.Fields(stored.Content)) >= len(strings.Fields(full)) {
		t.Errorf("the interrupted reply stored %q, want the first words of %q (what was heard)", stored.Content, full)
	}
	if strings.TrimSpace(shown) != strings.TrimSpace(stored.Content) {
		t.Errorf("the chat shows the cut reply as %q, the server stored %q", shown, stored.Content)
	}
	t.Logf("stored after the barge-in: %q", stored.Content)

	// The latency panel shows the last turn's timeline.
	b.do(tab, "the latency panel shows", chromedp.WaitVisible(css(`#call-latency`)))
	t.Logf("latency: %s", eval[string](b, tab, "read the latency panel",
		`document.querySelector('#call-latency summary').textContent + ' | ' + [...document.querySelectorAll('#call-latency dd')].map((d) => d.textContent).join(' ')`))

	// A phone in the dark: the bar fits the screen.
	b.do(tab, "a phone in dark mode",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		emulateDark(true),
		chromedp.Sleep(300*time.Millisecond))
	if over := eval[bool](b, tab, "the call bar fits the phone",
		`(() => { const r = document.querySelector('#call-bar').getBoundingClientRect(); return r.left < 0 || r.right > innerWidth; })()`); over {
		t.Error("the call bar is wider than a phone screen")
	}
	b.screenshot(tab, "voice-2-phone-dark")
	b.do(tab, "back to the desktop", chromedp.EmulateViewport(1280, 860), emulateDark(false))

	// Hang up, then type in the same conversation.
	b.do(tab, "hang up", chromedp.Click(css(`#hangup`)))
	poll[bool](b, tab, "the call ends", `window.__os1voice.state === 'ended' && document.querySelector('#call').getAttribute('aria-pressed') === 'false'`)
	const typed = "Thank you, that helps."
	b.do(tab, "type a message after the call",
		chromedp.WaitEnabled(css(`#composer`)),
		chromedp.SendKeys(css(`#composer`), typed),
		chromedp.Click(css(`#send`)))
	poll[bool](b, tab, "she answers the typed message", `(() => {
		const ms = [...document.querySelectorAll('#messages .msg')];
		const i = ms.map((m) => m.querySelector('.msg-text').textContent).lastIndexOf(`+strconv.Quote(typed)+`);
		const a = ms[i + 1];
		return i >= 0 && !!a && a.dataset.role === 'assistant' && a.dataset.status === 'complete';
	})()`)
	if got := eval[string](b, tab, "read the conversation id after typing",
		`decodeURIComponent((location.hash.match(/^#\/c\/([^/?]+)/) || [])[1] || '')`); got != convID {
		t.Errorf("typing after the call went to conversation %q, want the call's %q", got, convID)
	}
	v := owner.conversation(convID)
	if last := v.Messages[len(v.Messages)-1]; last.Role != "assistant" || last.Status != "complete" {
		t.Errorf("the conversation ends with %+v, want her complete answer to the typed message", last)
	}
	if !hasMessage(v.Messages, "user", typed) {
		t.Errorf("the typed message is not in the call's conversation: %+v", v.Messages)
	}
	t.Logf("she is %s; conversation %s holds %d messages", name, convID, len(v.Messages))
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the UI threw uncaught exceptions:\n%s", strings.Join(ex, "\n"))
	}
}

// TestVoiceCallErrors: a refused microphone and a server without speech
// engines each end the call attempt with a message that says what to do,
// and leave nothing half-open.
func TestVoiceCallErrors(t *testing.T) {
	b := newMicBrowser(t, "", false)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel,
		"OS1_STT=off", "OS1_TTS=off")
	owner := newClient(t, p.URL)
	owner.setup(p.SetupToken, ownerName, ownerPassword, ownerDisplay)
	owner.waitModel()
	owner.onboard()
	tab := b.ctx
	b.signIn(tab, p.URL)

	for _, c := range []struct {
		mic  cdpbrowser.PermissionSetting
		want string
		shot string
	}{
		{cdpbrowser.PermissionSettingDenied, "Microphone access was denied", "voice-3-mic-denied"},
		{cdpbrowser.PermissionSettingGranted, "Voice calls are not enabled on this server", "voice-4-no-engines"},
	} {
		if _, err := chromedp.CallBrowser(tab, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "microphone"},
			Setting:    c.mic,
			Origin:     p.URL,
		}); err != nil {
			t.Fatalf("set the microphone permission to %s: %v", c.mic, err)
		}
		b.do(tab, "call with the microphone "+string(c.mic), chromedp.Click(css(`#call`)))
		poll[bool](b, tab, "the attempt ends", `!!window.__os1voice && window.__os1voice.state === 'ended'`)
		b.do(tab, "the error shows", chromedp.WaitVisible(css(`#call-error`)))
		msg := eval[string](b, tab, "read the error", `document.querySelector('#call-error').textContent`)
		if !strings.Contains(msg, c.want) {
			t.Errorf("microphone %s: #call-error says %q, want %q", c.mic, msg, c.want)
		}
		if pressed := eval[string](b, tab, "read the call button", `document.querySelector('#call').getAttribute('aria-pressed')`); pressed != "false" {
			t.Errorf("microphone %s: the call button stays pressed after the failure", c.mic)
		}
		t.Logf("microphone %s: %s", c.mic, msg)
		b.screenshot(tab, c.shot)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the UI threw uncaught exceptions:\n%s", strings.Join(ex, "\n"))
	}
}

// ---- helpers ------------------------------------------------------------------

// requireTools skips (or, with OS1_E2E_REQUIRE=1, fails) unless every tool is on PATH.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "the voice journey needs " + strings.Join(missing, ", ") + " (apt-get install festival festvox-us-slt-hts pocketsphinx pocketsphinx-en-us, or `make test` does it)"
	if os.Getenv("OS1_E2E_REQUIRE") == "1" {
		t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
	}
	t.Skip(msg)
}

// voiceCache is the cache folder os1 serve gets (the one scripts/assets.sh
// fills), and whether it holds the browser VAD assets. With
// OS1_E2E_REQUIRE=1 (make test fetches them) their absence is a failure.
func voiceCache(t *testing.T) (string, bool) {
	t.Helper()
	cache := os.Getenv("OS1_CACHE_DIR")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("no OS1_CACHE_DIR and no home directory: %v", err)
		}
		cache = filepath.Join(home, ".cache", "os1")
	}
	ok := fileExists(filepath.Join(cache, "voice", "vad-web", "bundle.min.js")) &&
		fileExists(filepath.Join(cache, "voice", "onnxruntime-web", "ort-wasm-simd-threaded.wasm"))
	if !ok && os.Getenv("OS1_E2E_REQUIRE") == "1" {
		t.Fatalf("no voice assets in %s/voice: run scripts/assets.sh voice (OS1_E2E_REQUIRE=1 makes this a failure)", cache)
	}
	return cache, ok
}

// speechWAV speaks text with festival and pads it with silence before and
// after, as a 16-bit WAV file Chromium can use as its microphone.
func speechWAV(t *testing.T, text string, before, after time.Duration) string {
	t.Helper()
	dir := t.TempDir()
	raw := filepath.Join(dir, "speech.wav")
	cmd := exec.Command("text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", raw)
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("text2wave: %v\n%s", err, out)
	}
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	speech, err := audio.DecodeWAV(f)
	if err != nil {
		t.Fatalf("decode festival's WAV: %v", err)
	}
	if speech.Duration() < time.Second {
		t.Fatalf("festival spoke %q in %v; is the voice_cmu_us_slt_arctic_hts voice installed?", text, speech.Duration())
	}
	mic := filepath.Join(dir, "mic.wav")
	clip := audio.Concat(speech.Rate, audio.Silence(speech.Rate, before), speech, audio.Silence(speech.Rate, after))
	if err := os.WriteFile(mic, audio.WAV(clip), 0o644); err != nil {
		t.Fatal(err)
	}
	return mic
}

// newMicBrowser is newBrowser with a fake microphone that plays wav in a
// loop. When grant is set Chromium gives it to the page without asking;
// otherwise the page gets what the permission settings say.
func newMicBrowser(t *testing.T, wav string, grant bool) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.Flag("use-fake-device-for-media-stream", true)}
	if grant {
		opts = append(opts, chromedp.Flag("use-fake-ui-for-media-stream", true))
	}
	if wav != "" {
		opts = append(opts, chromedp.Flag("use-file-for-fake-audio-capture", wav))
	}
	return newBrowser(t, opts...)
}

// signIn signs the owner in through the login screen and waits for the chat.
func (b *browser) signIn(tab context.Context, base string) {
	b.t.Helper()
	b.do(tab, "sign in",
		chromedp.Navigate(base+"/#/login"),
		screen("login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), ownerName),
		chromedp.SendKeys(css(`#login-password`), ownerPassword),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.WaitVisible(css(`#composer`)),
	)
}

// emulateDark makes the page see prefers-color-scheme: dark (or lifts that).
func emulateDark(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		params := emulation.SetEmulatedMediaParams{}
		if on {
			params.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}
		}
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, params)
		return err
	})
}

// wordPrefix reports whether the words of s begin the words of full (the
// last word of s may be cut short).
func wordPrefix(s, full string) bool {
	a, b := strings.Fields(s), strings.Fields(full)
	if len(a) == 0 || len(a) > len(b) {
		return false
	}
	for i, w := range a {
		if w != b[i] && (i != len(a)-1 || !strings.HasPrefix(b[i], w)) {
			return false
		}
	}
	return true
}

func hasMessage(ms []message, role, content string) bool {
	for _, m := range ms {
		if m.Role == role && m.Content == content {
			return true
		}
	}
	return false
}

type errText string

func (e errText) Error() string { return string(e) }
