package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// chromiumPath is the browser the journey runs in. Without one the test
// skips, unless OS1_E2E_REQUIRE=1 (make test, CI) makes that a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if fileExists("/usr/bin/chromium") {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	msg := "no Chromium at /usr/bin/chromium or on PATH: install it (apt-get install chromium, or `make test` does it) to run the browser journey"
	if os.Getenv("OS1_E2E_REQUIRE") == "1" {
		t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
	}
	t.Skip(msg)
	return ""
}

// browser is a headless Chromium for one test, closed when the test ends.
type browser struct {
	t     *testing.T
	ctx   context.Context // the browser's first tab; new contexts derive from it
	shots string

	mu       sync.Mutex
	problems []string // uncaught exceptions in any tab
}

// newBrowser starts a headless Chromium with a fresh profile; extra adds to
// or overrides its flags.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	path := chromiumPath(t)
	// Not t.TempDir: Chromium's helpers may still write there for a moment
	// after it exits, and a failed removal must not fail the test.
	profile, err := os.MkdirTemp("", "os1-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 860),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser with a context that has no deadline: the first Run
	// binds the browser's life to its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	shots := os.Getenv("OS1_E2E_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatalf("OS1_E2E_SHOTS=%s: %v", shots, err)
	}
	b := &browser{t: t, ctx: ctx, shots: shots}
	b.watch(ctx)
	return b
}

// incognito is a new tab in a fresh browser context: no cookies or storage
// shared with the other tabs, like a second person's browser.
func (b *browser) incognito() context.Context {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a tab in a new browser context: %v", err)
	}
	b.watch(ctx)
	return ctx
}

// watch records the uncaught exceptions of a tab, and logs its console errors.
func (b *browser) watch(ctx context.Context) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
}

// exceptions are the uncaught exceptions seen so far.
func (b *browser) exceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, p := range b.problems {
		if strings.HasPrefix(p, string(chromedp.ConsoleException)+":") {
			out = append(out, p)
		}
	}
	return out
}

func (b *browser) consoleLog() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.problems, "\n")
}

// do runs one step of the journey in tab; on failure it saves a screenshot
// and says which screen the UI showed.
func (b *browser) do(tab context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(tab, step, err)
	}
}

// eval evaluates a JavaScript expression in tab and decodes its value.
func eval[T any](b *browser, tab context.Context, step, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail(tab, step, err)
	}
	return v
}

// poll waits until a JavaScript expression is truthy in tab and returns it.
func poll[T any](b *browser, tab context.Context, step, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		b.fail(tab, step, err)
	}
	return v
}

func (b *browser) fail(tab context.Context, step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
		`location.href + "  screen=" + document.body.dataset.screen + "\n" + document.body.innerText.slice(0, 2000)`))
	shot := b.screenshot(ctx, "failed")
	b.t.Fatalf("browser: %s: %v\npage: %s\nscreenshot: %s\nconsole errors:\n%s", step, err, where, shot, b.consoleLog())
}

// screenshot saves a PNG of what tab shows and returns its path.
func (b *browser) screenshot(tab context.Context, name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	// Let fade-ins end, so the picture shows what a person would see; a
	// page that keeps animating is photographed anyway.
	_, _ = chromedp.Run(ctx, chromedp.Poll[bool](`document.getAnimations().every((a) =>
		a.playState !== 'running' || a.effect.getComputedTiming().iterations === Infinity)`,
		chromedp.WithPollingTimeout(5*time.Second)))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
		return ""
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func screen(name string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitReady(css(`body[data-screen="` + name + `"]`))
}

// shownMessage is a chat message as the UI shows it.
type shownMessage struct {
	Role   string `json:"role"`
	Status string `json:"status"`
	ID     string `json:"id"`
	Text   string `json:"text"`
}

const shownMessagesJS = `[...document.querySelectorAll('#messages .msg')].map((m) => ({
	role: m.dataset.role || '', status: m.dataset.status || '', id: m.dataset.id || '',
	text: (m.querySelector('.msg-text') || {}).textContent || ''}))`

// meet answers the first meeting's three questions and confirms the time zone.
func (b *browser) meet(tab context.Context, answers [3]string, timezone string) {
	b.t.Helper()
	b.do(tab, "the first meeting starts", screen("meeting"))
	for i, a := range answers {
		// Each step renders a new #meeting-answer; mark the one answered so
		// the next wait finds the next question's.
		b.do(tab, fmt.Sprintf("answer question %d", i+1),
			chromedp.WaitVisible(css(`#meeting-answer:not([data-e2e-answered])`)),
			chromedp.SendKeys(css(`#meeting-answer`), a),
			chromedp.SetAttributeValue(css(`#meeting-answer`), "data-e2e-answered", "yes"),
			chromedp.Click(css(`#meeting-next`)),
		)
	}
	b.do(tab, "confirm the time zone",
		chromedp.WaitVisible(css(`#meeting-timezone`)),
		chromedp.SetValue(css(`#meeting-timezone`), timezone),
		chromedp.Click(css(`#meeting-next`)),
	)
}

// named goes from the end of the first meeting to the chat: past the model
// step if it shows, through naming. It returns the name she chose, and
// saves a screenshot of the naming screen when shot is not empty.
func (b *browser) named(tab context.Context, shot string) string {
	b.t.Helper()
	next := poll[string](b, tab, "the model or naming step follows the meeting",
		`['model', 'naming'].includes(document.body.dataset.screen) && document.body.dataset.screen`)
	if next == "model" {
		b.do(tab, "continue from the model step (the model is connected)",
			chromedp.WaitVisible(css(`#model-step`)),
			chromedp.WaitVisible(css(`#model-continue`)),
			chromedp.Click(css(`#model-continue`)),
		)
	}
	b.do(tab, "she chooses a name", screen("naming"), chromedp.WaitVisible(css(`#companion-name`)))
	name := eval[string](b, tab, "read her name", `document.querySelector('#companion-name').textContent`)
	if shot != "" {
		b.do(tab, "the start button shows", chromedp.WaitVisible(css(`#start-chat`)))
		b.screenshot(tab, shot)
	}
	b.do(tab, "start talking",
		chromedp.WaitVisible(css(`#start-chat`)),
		chromedp.Click(css(`#start-chat`)),
		screen("chat"),
		chromedp.WaitVisible(css(`#composer`)),
	)
	return name
}

// TestBrowserJourney walks a new owner through the web UI from the setup
// link to a streamed reply, reloads, and checks that a second person sees
// none of it.
func TestBrowserJourney(t *testing.T) {
	b := newBrowser(t)

	chunks := []string{"Hello", " Theo.", " It", " is", " good", " to", " hear", " from", " you.",
		" What", " is", " on", " your", " mind", " today?"}
	reply := strings.Join(chunks, "")
	model := llmtest.NewServer(t)
	// The memory extraction after the first turn remembers the tomatoes,
	// citing the user's message by the id the prompt shows it with.
	model.Route(func(r llmtest.Request) bool {
		return strings.Contains(r.System, "deciding what to remember") && len(r.Messages) > 0 &&
			strings.Contains(r.Messages[len(r.Messages)-1].Content, "I planted tomatoes today.")
	}, func(r llmtest.Request) llmtest.Reply {
		prompt := r.Messages[len(r.Messages)-1].Content
		id := ""
		for _, line := range strings.Split(prompt, "\n") {
			if strings.Contains(line, "I planted tomatoes today.") && strings.HasPrefix(line, "[") {
				id = line[1:strings.Index(line, "]")]
			}
		}
		return llmtest.Reply{Chunks: []string{`{"operations":[{"op":"add","kind":"event","text":"Theo planted tomatoes.","sources":["` + id + `"],"people":[],"event_time":"","confidence":0.9,"importance":0.6}]}`}}
	})
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": `, `"Samantha"}`}}
		}
		return llmtest.Reply{Chunks: chunks, ChunkDelay: 40 * time.Millisecond}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	tab := b.ctx

	// Setup, from the link os1 serve printed.
	b.do(tab, "open the setup link",
		chromedp.Navigate(p.SetupURL),
		screen("setup"),
		chromedp.WaitVisible(css(`#setup-form`)),
		chromedp.SendKeys(css(`#setup-display-name`), ownerDisplay),
		chromedp.SendKeys(css(`#setup-username`), ownerName),
		chromedp.SendKeys(css(`#setup-password`), ownerPassword),
		chromedp.SendKeys(css(`#setup-password2`), ownerPassword),
		chromedp.Click(css(`#setup-form button[type="submit"]`)),
		screen("meeting"),
	)
	// Naming needs the model, which os1 looks up right after it starts.
	owner := newClient(t, p.URL)
	owner.login(ownerName, ownerPassword)
	owner.waitModel()
	answers := [3]string{"Somewhere in between", "My garden and my sister", "Warm and calm"}
	b.meet(tab, answers, "Europe/Berlin")
	if name := b.named(tab, "1-naming"); name != "Samantha" {
		t.Errorf("#companion-name says %q, want the name the model chose, Samantha", name)
	}
	b.do(tab, "the top bar shows a connected model", chromedp.WaitReady(css(`#model-status[data-connected="true"]`)))

	// Talk, and watch the reply grow: an observer in the page records the
	// length of her reply at every change of the DOM.
	const text = "I planted tomatoes today."
	eval[bool](b, tab, "watch the messages", `(() => {
		window.e2eLengths = [];
		const log = document.querySelector('#messages');
		const record = () => {
			const all = log.querySelectorAll('.msg[data-role="assistant"]');
			const m = all[all.length - 1];
			if (!m) return;
			const t = m.querySelector('.msg-text');
			window.e2eLengths.push({len: t ? t.textContent.length : 0, status: m.dataset.status || ''});
		};
		new MutationObserver(record).observe(log, {subtree: true, childList: true, characterData: true, attributes: true});
		return true;
	})()`)
	b.do(tab, "send a message",
		chromedp.SendKeys(css(`#composer`), text),
		chromedp.Click(css(`#send`)),
		chromedp.WaitReady(css(`#messages .msg[data-role="assistant"][data-status="complete"]`)),
	)
	b.screenshot(tab, "2-chat")
	shown := eval[[]shownMessage](b, tab, "read the messages", shownMessagesJS)
	checkShown(t, "after the reply", shown, text, reply)

	type sample struct {
		Len    int    `json:"len"`
		Status string `json:"status"`
	}
	samples := eval[[]sample](b, tab, "read the observed lengths", `window.e2eLengths`)
	partial := map[int]bool{}
	last := 0
	for _, s := range samples {
		if s.Len < last && s.Status == "streaming" {
			t.Errorf("the streaming reply shrank from %d to %d characters", last, s.Len)
		}
		last = s.Len
		if s.Status == "streaming" && s.Len > 0 && s.Len < len(reply) {
			partial[s.Len] = true
		}
	}
	if len(partial) < 2 {
		t.Errorf("saw the streaming reply at %d partial lengths, want at least 2 (it should grow word by word); samples: %+v", len(partial), samples)
	}
	t.Logf("the reply grew through %d partial lengths before it was complete", len(partial))

	convID := eval[string](b, tab, "read the conversation id", `decodeURIComponent((location.hash.match(/^#\/c\/([^/?]+)/) || [])[1] || '')`)
	if convID == "" {
		t.Fatalf("the URL names no conversation after the first message")
	}
	b.do(tab, "the conversation is in the list", chromedp.WaitReady(css(`#conversations .conv[data-id="`+convID+`"]`)))

	// History survives a reload.
	b.do(tab, "reload",
		chromedp.Reload(),
		screen("chat"),
		chromedp.WaitReady(css(`#messages .msg[data-role="assistant"][data-status="complete"]`)),
	)
	checkShown(t, "after a reload", eval[[]shownMessage](b, tab, "read the messages after reload", shownMessagesJS), text, reply)

	// She remembers it, and can say why: the memory browser lists the
	// extracted belief and opens the message it came from.
	b.do(tab, "open the memory browser",
		chromedp.Navigate(p.URL+"/#/memory"),
		chromedp.WaitReady(css(`#memory-list`)),
	)
	var memText string
	for i := 0; i < 30 && !strings.Contains(memText, "tomatoes"); i++ { // extraction runs in the background
		b.do(tab, "reload the memory list", chromedp.Reload(), chromedp.WaitReady(css(`#memory-list`)), chromedp.Sleep(300*time.Millisecond))
		memText = eval[string](b, tab, "read the memory list", `(document.querySelector('#memory-list') || {}).textContent || ''`)
	}
	if !strings.Contains(memText, "Theo planted tomatoes.") {
		t.Fatalf("the memory browser shows %q, want the extracted memory", memText)
	}
	b.do(tab, "open the memory and ask why",
		chromedp.Click(css(`#memory-list .mem-item .mem-link`)),
		chromedp.WaitReady(css(`#memory-why`)),
		chromedp.Click(css(`#memory-why`)),
		chromedp.WaitVisible(css(`#memory-sources .source-msg`)),
	)
	if why := eval[string](b, tab, "read the sources", `document.querySelector('#memory-sources').textContent`); !strings.Contains(why, text) {
		t.Errorf("'why do you believe this?' shows %q, want the message %q", why, text)
	}
	if eval[bool](b, tab, "look for stray text", `[...document.querySelector('#main').childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '')`) {
		t.Error("the memory page shows stray text (a null or undefined rendered as text)")
	}
	b.screenshot(tab, "2b-memory-why")

	// What the UI sent was stored as typed.
	var prof struct {
		Answers  map[string]string `json:"answers"`
		Timezone string            `json:"timezone"`
	}
	owner.must(http.MethodGet, "/api/profile", nil, &prof)
	if prof.Answers["social"] != answers[0] || prof.Answers["matters"] != answers[1] || prof.Answers["sound"] != answers[2] || prof.Timezone != "Europe/Berlin" {
		t.Errorf("stored profile %+v, want the answers typed in the first meeting and Europe/Berlin", prof)
	}
	if v := owner.conversation(convID); len(v.Messages) != 2 || v.Messages[1].Content != reply || v.Messages[1].Status != "complete" {
		t.Errorf("stored conversation %+v, want the message and the complete reply", v.Messages)
	}

	// A second person, invited by the owner, in a browser of their own.
	var invite struct {
		URL string `json:"url"`
	}
	owner.must(http.MethodPost, "/api/invites", map[string]string{}, &invite)
	if !strings.HasPrefix(invite.URL, p.URL+"/#/invite/") {
		t.Fatalf("invite URL %q is not %s/#/invite/TOKEN", invite.URL, p.URL)
	}
	const memberName, memberPassword = "mia", "another long secret"
	other := b.incognito()
	b.do(other, "accept the invite",
		chromedp.Navigate(invite.URL),
		screen("invite"),
		chromedp.WaitVisible(css(`#invite-form`)),
		chromedp.SendKeys(css(`#invite-display-name`), "Mia"),
		chromedp.SendKeys(css(`#invite-username`), memberName),
		chromedp.SendKeys(css(`#invite-password`), memberPassword),
		chromedp.SendKeys(css(`#invite-password2`), memberPassword),
		chromedp.Click(css(`#invite-form button[type="submit"]`)),
	)
	b.meet(other, [3]string{"Quite social", "Exams", "Brisk"}, "Europe/Berlin")
	b.named(other, "")
	n := poll[int](b, other, "the member's conversation list loads",
		`document.querySelectorAll('#conversations li').length`)
	if convs := eval[int](b, other, "count the member's conversations", `document.querySelectorAll('#conversations .conv').length`); convs != 0 {
		t.Errorf("the member's conversation list shows %d conversations (%d items), want none", convs, n)
	}
	eval[string](b, other, "open the owner's conversation by URL", `location.hash = '#/c/`+convID+`'`)
	poll[bool](b, other, "the owner's conversation answers",
		`!!document.querySelector('#messages [role="alert"], #messages .notice, #messages .msg')`)
	if got := eval[[]shownMessage](b, other, "read what the member sees", shownMessagesJS); len(got) != 0 {
		t.Errorf("the member sees messages in the owner's conversation: %+v", got)
	}
	if page := eval[string](b, other, "read the member's page", `document.body.innerText`); strings.Contains(page, text) || strings.Contains(page, reply) {
		t.Errorf("the member's page shows the owner's words:\n%s", page)
	}
	b.screenshot(other, "3-member-sees-nothing")

	member := newClient(t, p.URL)
	member.login(memberName, memberPassword)
	if status, body := member.call(http.MethodGet, "/api/conversations/"+convID, nil, nil); status != http.StatusNotFound {
		t.Errorf("GET the owner's conversation as the member: HTTP %d %s, want 404", status, body)
	}
	if cs := member.conversations(); len(cs) != 0 {
		t.Errorf("the member's conversations are %+v, want none", cs)
	}

	// The model was asked for a name twice (once per person) and answered
	// the owner's message with it in the request.
	var naming, chats int
	for _, r := range model.Requests() {
		if strings.Contains(r.System, "You choose your own name") {
			naming++
		} else if hasUserText(r, text) {
			chats++
		}
	}
	if naming != 2 || chats != 1 {
		t.Errorf("the model got %d naming and %d chat requests with the message, want 2 and 1", naming, chats)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the UI threw uncaught exceptions:\n%s", strings.Join(ex, "\n"))
	}
	if log := b.consoleLog(); log != "" {
		t.Logf("browser console errors (expected ones included, e.g. the 404 of the owner's conversation):\n%s", log)
	}
}

// checkShown checks that the chat shows the user's text and her complete reply.
func checkShown(t *testing.T, when string, shown []shownMessage, text, reply string) {
	t.Helper()
	if len(shown) != 2 ||
		shown[0].Role != "user" || shown[0].Text != text ||
		shown[1].Role != "assistant" || shown[1].Text != reply || shown[1].Status != "complete" {
		t.Errorf("%s the chat shows %+v, want the message %q and the complete reply %q", when, shown, text, reply)
	}
}
