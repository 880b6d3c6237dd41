// Gap-free playback of the companion's spoken reply with Web Audio.
//
// The server sends a reply as sentences of PCM (an `audio` frame, then one
// binary frame; docs/voice-protocol.md). Each sentence becomes an
// AudioBuffer scheduled to start exactly when the previous one ends, so the
// sentences join without a click or a gap; a sentence that arrives late
// starts as soon as it can. stop() silences everything at once (barge-in).
//
// played_ms — how much of a reply the listener heard — is computed from the
// audio clock, not wall time: each scheduled sentence knows where it starts
// in the reply (offset_ms) and when it started on the clock.

const LEAD = 0.04; // seconds between scheduling a sentence and its start, when idle

export class Player {
  /**
   * @param {AudioContext} ctx
   * @param {{onStarted?: (id: string) => void, onSentence?: (id: string, seq: number) => void,
   *          onSentenceEnd?: (id: string, seq: number) => void,
   *          onFinished?: (id: string, playedMs: number) => void}} hooks
   * onStarted: the first sentence of a reply began to sound; onSentence and
   * onSentenceEnd: one sentence began and ended (not called for sentences
   * cut by stop); onFinished: a reply marked done played to its end.
   */
  constructor(ctx, hooks = {}) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.out = ctx.createGain();
    this.out.connect(ctx.destination);
    this.next = 0; // audio-clock time the next sentence may start
    this.replies = new Map(); // message id → reply
    this.cut = new Set(); // replies stopped by a barge-in: their late audio is dropped
    this.timers = new Set();
  }

  /** True while any sentence is scheduled or sounding. */
  get playing() {
    for (const r of this.replies.values()) if (r.active.size) return true;
    return false;
  }

  /**
   * enqueue schedules one sentence. meta is the `audio` frame
   * ({message_id, seq, sample_rate, samples, offset_ms}); pcm its binary
   * frame (16-bit LE mono). Returns false when the sentence was dropped.
   */
  enqueue(meta, pcm) {
    const id = meta.message_id;
    if (!id || this.cut.has(id)) return false;
    const n = pcm.byteLength >> 1;
    const rate = meta.sample_rate;
    if (!n || !(rate >= 3000 && rate <= 384000)) return false;
    const view = new DataView(pcm);
    const samples = new Float32Array(n);
    for (let i = 0; i < n; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
    const buffer = this.ctx.createBuffer(1, n, rate);
    buffer.copyToChannel(samples, 0);

    let r = this.replies.get(id);
    if (!r) {
      r = { id, items: [], active: new Set(), done: false, started: false, finished: false, endMs: 0 };
      this.replies.set(id, r);
    }
    const src = this.ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(this.out);
    const now = this.ctx.currentTime;
    const start = Math.max(this.next, now + LEAD);
    const offsetMs = Number.isFinite(meta.offset_ms) ? meta.offset_ms : r.endMs;
    const item = { src, start, offsetMs, durMs: buffer.duration * 1000, seq: meta.seq };
    r.items.push(item);
    r.active.add(src);
    r.endMs = Math.max(r.endMs, offsetMs + item.durMs);
    this.next = start + buffer.duration;
    src.onended = () => {
      r.active.delete(src);
      this.call('onSentenceEnd', id, meta.seq);
      this.settle(r);
    };
    src.start(start);
    this.at(start, () => {
      if (this.cut.has(id)) return;
      if (!r.started) {
        r.started = true;
        this.call('onStarted', id);
      }
      this.call('onSentence', id, meta.seq);
    });
    return true;
  }

  /** done marks a reply complete (`audio_done`): when its last sentence ends it is finished. */
  done(id) {
    const r = this.replies.get(id);
    if (!r) {
      // A reply without audio (nothing speakable) has nothing to finish.
      return;
    }
    r.done = true;
    this.settle(r);
  }

  /** knows reports whether any audio of reply id arrived. */
  knows(id) { return this.replies.has(id); }

  /** has reports whether a reply has audio scheduled or playing. */
  has(id) {
    const r = this.replies.get(id);
    return !!r && r.active.size > 0;
  }

  /** playedMs is how much of reply id has been heard so far. */
  playedMs(id) {
    const r = this.replies.get(id);
    if (!r) return 0;
    const t = this.ctx.currentTime;
    let heard = 0;
    for (const it of r.items) {
      if (it.start > t) continue;
      heard = Math.max(heard, it.offsetMs + Math.min((t - it.start) * 1000, it.durMs));
    }
    return Math.round(heard);
  }

  /**
   * stop silences every reply at once and drops their pending audio. It
   * returns, for each reply that was still playing or queued, how much of it
   * was heard.
   */
  stop() {
    const cut = [];
    for (const r of this.replies.values()) {
      if (r.finished) continue;
      const played = this.playedMs(r.id);
      for (const src of r.active) {
        src.onended = null;
        try { src.stop(); } catch { /* not started yet */ }
        src.disconnect();
      }
      r.active.clear();
      r.finished = true;
      this.cut.add(r.id);
      cut.push({ id: r.id, playedMs: played });
    }
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.next = 0;
    return cut;
  }

  /** forget drops the bookkeeping of finished replies. */
  forget(id) { this.replies.delete(id); }

  close() {
    this.stop();
    this.out.disconnect();
  }

  settle(r) {
    if (r.finished || !r.done || r.active.size) return;
    r.finished = true;
    this.call('onFinished', r.id, Math.round(r.endMs));
  }

  // at runs fn when the audio clock reaches time t (as near as timers allow).
  at(t, fn) {
    const ms = Math.max(0, (t - this.ctx.currentTime) * 1000);
    const timer = setTimeout(() => { this.timers.delete(timer); fn(); }, ms);
    this.timers.add(timer);
  }

  call(name, ...args) {
    const fn = this.hooks[name];
    if (!fn) return;
    try { fn(...args); } catch (e) { console.error(`os1: voice player ${name} hook failed`, e); }
  }
}
