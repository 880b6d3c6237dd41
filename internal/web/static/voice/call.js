// A voice call: one WebSocket to /api/voice (docs/voice-protocol.md) that
// carries the microphone up as 16 kHz PCM and brings the companion's spoken
// reply down, sentence by sentence, with captions and turn events for the
// chat to show.
//
// Pieces: the capture AudioWorklet (capture-worklet.js) resamples the
// microphone; Silero VAD (vad.js) tells the server when the user speaks
// ("vad": "client"), or, when its assets are missing or it fails to load,
// the server listens for speech itself ("vad": "server"); the Player
// (player.js) plays the reply gap-free and is silenced at once when the user
// talks over it (barge-in), reporting how much was heard.
//
// VoiceCall knows nothing of the DOM. It reports to one listener:
//   listener('status', {state, activity, vad, note})   state: connecting|live|ended;
//        activity: listening|user|thinking|speaking
//   listener('event', ev)      every JSON frame from the server (captions, turn events…)
//   listener('barge_in', {message_id, played_ms, by})
//   listener('error', {message, code, fatal})
// Its counters are in call.stats, which is also window.__os1voice, for the
// end-to-end tests and for anyone curious in the console.

import { Player } from './player.js';
import { startVAD, VadMissing } from './vad.js';

const INPUT_RATE = 16000;
const OPEN_TIMEOUT = 10000;
const WORKLET = '/voice/capture-worklet.js';
const MAX_BUFFERED = 512 * 1024; // stop queueing microphone audio behind a stalled socket

export const MIC_CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
};

/** A failure to start or keep a call, with a message meant for the user. */
export class CallError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'CallError';
    this.code = code;
  }
}

export class VoiceCall {
  /** @param {{conversationId?: string, listener: (kind: string, data: object) => void}} opts */
  constructor({ conversationId = '', listener }) {
    this.conversationId = conversationId || '';
    this.listener = listener;
    this.state = 'idle';
    this.activity = 'listening';
    this.vadMode = '';
    this.note = '';
    this.ws = null;
    this.ctx = null;
    this.stream = null;
    this.source = null;
    this.capture = null;
    this.sink = null;
    this.vad = null;
    this.player = null;
    this.started = false; // the `start` frame was sent: audio may follow
    this.pendingAudio = null; // the `audio` frame whose binary frame comes next
    this.replyId = ''; // the reply being spoken, or about to be
    this.barged = new Set();
    this.userSpeaking = false;
    this.stats = {
      state: 'idle', vad: '', note: '', conversationId: this.conversationId, stt: '', tts: '',
      framesSent: 0, speechStarts: 0, speechEnds: 0, transcripts: [],
      sentencesReceived: 0, sentencesStarted: 0, sentencesPlayed: 0, repliesPlayed: 0,
      playing: false, bargeIns: [], interrupted: [], timeline: null, errors: [],
    };
    window.__os1voice = this.stats;
  }

  get live() { return this.state === 'live'; }

  /**
   * start opens the microphone, the VAD and the socket. Call it from the
   * click handler itself: the AudioContext is made before the first await,
   * inside the user's gesture, so the browser lets it play.
   */
  async start() {
    this.setState('connecting');
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw new CallError('no_mic', 'This page cannot use the microphone: browsers allow it only over https (or on localhost).');
      }
      if (!window.AudioContext || typeof AudioWorkletNode !== 'function') {
        throw new CallError('no_audio', 'This browser lacks Web Audio worklets, which voice calls need. Try a current Chrome, Firefox or Safari.');
      }
      this.ctx = new AudioContext({ latencyHint: 'interactive' });
      this.ctx.resume().catch(() => {});
      try {
        this.stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
      } catch (e) {
        throw micError(e);
      }
      if (this.state !== 'connecting') return this.release();
      this.player = new Player(this.ctx, {
        onStarted: (id) => this.playbackStarted(id),
        onSentence: () => { this.stats.sentencesStarted++; },
        onSentenceEnd: () => { this.stats.sentencesPlayed++; },
        onFinished: (id, ms) => this.playbackFinished(id, ms),
      });
      await Promise.all([this.startVAD(), this.startCapture(), this.connect()]);
      if (this.state !== 'connecting') return this.release();
      this.send({ type: 'start', conversation_id: this.conversationId, sample_rate: INPUT_RATE, vad: this.vadMode });
      this.started = true;
      this.stats.vad = this.vadMode;
    } catch (e) {
      const err = e instanceof CallError ? e : new CallError('failed', `The call could not start: ${e.message || e}`);
      this.fail(err);
    }
  }

  /** sendText sends a typed message into the call; false when no call is live. */
  sendText(text) {
    if (!this.live || !this.open) return false;
    this.send({ type: 'text', text });
    return true;
  }

  /** hangup ends the call; a reply in progress is cancelled by the server. */
  hangup() {
    if (this.state === 'ended' || this.state === 'idle') return;
    this.send({ type: 'stop' });
    this.setState('ended');
    this.release();
  }

  // ---- setup -----------------------------------------------------------------

  async startVAD() {
    try {
      const vad = await startVAD({
        audioContext: this.ctx,
        stream: this.stream,
        onSpeechStart: () => this.localSpeech(true),
        onSpeechEnd: () => this.localSpeech(false),
        onMisfire: () => this.localSpeech(false),
      });
      if (this.state === 'ended') { vad.destroy(); return; }
      this.vad = vad;
      this.vadMode = 'client';
    } catch (e) {
      this.vadMode = 'server';
      this.note = e instanceof VadMissing
        ? `The server listens for your speech: ${e.message}.`
        : `The server listens for your speech: voice detection could not start in this browser (${e.message}).`;
      this.stats.note = this.note;
      console.warn('os1: client VAD unavailable:', e);
    }
  }

  async startCapture() {
    await this.ctx.audioWorklet.addModule(WORKLET);
    this.source = this.ctx.createMediaStreamSource(this.stream);
    this.capture = new AudioWorkletNode(this.ctx, 'os1-capture', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
    this.capture.port.onmessage = (e) => this.onFrame(e.data);
    // A node must lead to the destination to be pulled; this one leads
    // there through a silent gain, so nothing of the microphone is heard.
    this.sink = this.ctx.createGain();
    this.sink.gain.value = 0;
    this.source.connect(this.capture);
    this.capture.connect(this.sink);
    this.sink.connect(this.ctx.destination);
  }

  connect() {
    return new Promise((resolve, reject) => {
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      let ws;
      try {
        ws = new WebSocket(`${proto}//${location.host}/api/voice`);
      } catch (e) {
        reject(new CallError('no_socket', `Could not open the voice connection: ${e.message}`));
        return;
      }
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      let opened = false;
      const timer = setTimeout(() => {
        reject(new CallError('no_socket', 'The voice connection to os1 did not open in time. Check your network and try again.'));
        try { ws.close(); } catch { /* closing anyway */ }
      }, OPEN_TIMEOUT);
      ws.onopen = () => { opened = true; clearTimeout(timer); resolve(); };
      ws.onmessage = (m) => this.onMessage(m.data);
      ws.onerror = () => { /* a close event follows */ };
      ws.onclose = (e) => {
        clearTimeout(timer);
        if (this.ws !== ws) return;
        if (!opened) {
          refusal().then((why) => reject(new CallError('no_socket', why)));
          return;
        }
        this.dropped(e);
      };
    });
  }

  get open() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

  send(frame) {
    if (!this.open) return;
    try { this.ws.send(JSON.stringify(frame)); } catch { /* the close handler reports it */ }
  }

  // ---- microphone ------------------------------------------------------------

  onFrame(buf) {
    if (!this.started || !this.open || !(buf instanceof ArrayBuffer)) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED) return; // the server will hear a gap rather than a backlog
    this.ws.send(buf);
    this.stats.framesSent++;
  }

  localSpeech(speaking) {
    if (!this.started) return;
    if (speaking === this.userSpeaking) return;
    this.userSpeaking = speaking;
    if (speaking) {
      this.stats.speechStarts++;
      // Speech during her reply cuts it at once, here and on the server
      // (which treats speech_start during a reply as a barge-in): first say
      // how much was heard, then that the user speaks.
      if (this.replyId) this.bargeIn(this.replyId, 'client');
      this.send({ type: 'speech_start' });
      this.setActivity('user');
    } else {
      this.stats.speechEnds++;
      this.send({ type: 'speech_end' });
      this.setActivity(this.player && this.player.playing ? 'speaking' : 'listening');
    }
  }

  // ---- from the server -------------------------------------------------------

  onMessage(data) {
    if (typeof data !== 'string') {
      const meta = this.pendingAudio;
      this.pendingAudio = null;
      if (meta && this.player && !this.barged.has(meta.message_id)) this.player.enqueue(meta, data);
      return;
    }
    let ev;
    try { ev = JSON.parse(data); } catch { return; }
    if (!ev || typeof ev.type !== 'string') return;
    const s = this.stats;
    switch (ev.type) {
      case 'ready':
        this.conversationId = ev.conversation_id || this.conversationId;
        s.conversationId = this.conversationId;
        s.stt = ev.stt || '';
        s.tts = ev.tts || '';
        if (ev.vad && ev.vad !== this.vadMode) { this.vadMode = ev.vad; s.vad = ev.vad; }
        this.setState('live');
        break;
      case 'vad':
        if (this.vadMode === 'server') {
          this.userSpeaking = ev.state === 'speech';
          if (this.userSpeaking) s.speechStarts++;
          else s.speechEnds++;
          this.setActivity(this.userSpeaking ? 'user' : (this.player.playing ? 'speaking' : 'listening'));
        }
        break;
      case 'barge_in':
        this.bargeIn(ev.message_id, 'server');
        break;
      case 'transcript':
        if (ev.final) s.transcripts.push(ev.text || '');
        break;
      case 'user_message':
        this.setActivity('thinking');
        break;
      case 'assistant_start':
        if (ev.message && ev.message.id) this.replyId = ev.message.id;
        break;
      case 'audio':
        this.pendingAudio = ev;
        s.sentencesReceived++;
        if (!this.replyId && !this.barged.has(ev.message_id)) this.replyId = ev.message_id;
        break;
      case 'audio_done':
        this.player.done(ev.message_id);
        if (this.replyId === ev.message_id && !this.player.has(ev.message_id)) this.replyId = '';
        break;
      case 'turn_done':
        // A reply with no audio at all (failed, or nothing to say) is over.
        if (this.replyId && !this.player.knows(this.replyId)) this.replyId = '';
        if (!this.userSpeaking && !this.player.playing) this.setActivity('listening');
        break;
      case 'interrupted':
        s.interrupted.push({ message_id: ev.message_id, heard: ev.heard || '' });
        break;
      case 'timeline':
        s.timeline = ev;
        break;
      case 'error':
        s.errors.push(ev.error || {});
        if (this.state === 'connecting') {
          // `start` was refused (a deleted conversation, a reply already
          // being written there…): the call never began.
          const e = ev.error || {};
          this.fail(new CallError(e.code || 'failed', capitalize(e.message || 'the server refused the call.')));
          return;
        }
        break;
      default:
        break;
    }
    this.emit('event', ev);
  }

  // bargeIn stops playback at once and tells the server how much of reply
  // id was heard. by is 'client' (our VAD heard the user) or 'server'.
  bargeIn(id, by) {
    id = id || this.replyId;
    if (!id || this.barged.has(id)) return;
    this.barged.add(id);
    const cut = this.player.stop();
    const mine = cut.find((c) => c.id === id);
    const played = mine ? mine.playedMs : this.player.playedMs(id);
    this.send({ type: 'barge_in', message_id: id, played_ms: played });
    if (this.replyId === id) this.replyId = '';
    this.stats.playing = false;
    this.stats.bargeIns.push({ message_id: id, played_ms: played, by });
    this.setActivity(this.userSpeaking ? 'user' : 'listening');
    this.emit('barge_in', { message_id: id, played_ms: played, by });
  }

  playbackStarted(id) {
    this.send({ type: 'playback', message_id: id, state: 'started', played_ms: 0 });
    this.stats.playing = true;
    if (!this.userSpeaking) this.setActivity('speaking');
  }

  playbackFinished(id, ms) {
    this.send({ type: 'playback', message_id: id, state: 'finished', played_ms: ms });
    this.stats.repliesPlayed++;
    this.stats.playing = this.player.playing;
    if (this.replyId === id) this.replyId = '';
    this.player.forget(id);
    if (!this.userSpeaking && !this.player.playing) this.setActivity('listening');
  }

  // ---- ending ----------------------------------------------------------------

  dropped(e) {
    if (this.state === 'ended') return;
    const why = e.code === 1009 ? 'a frame was too large'
      : e.code === 1008 || e.code === 4401 ? 'the server refused the call'
        : e.reason ? e.reason : `connection closed, code ${e.code}`;
    this.fail(new CallError('dropped', `The call ended unexpectedly (${why}).`));
  }

  fail(err) {
    if (this.state === 'ended') return;
    this.stats.errors.push({ code: err.code, message: err.message });
    this.setState('ended');
    this.release();
    this.emit('error', { code: err.code, message: err.message, fatal: true });
  }

  release() {
    this.started = false;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try { ws.close(1000, 'hang up'); } catch { /* already closed */ }
    }
    if (this.capture) {
      this.capture.port.onmessage = null;
      this.capture.port.postMessage('stop');
      this.capture.disconnect();
      this.capture = null;
    }
    if (this.source) { this.source.disconnect(); this.source = null; }
    if (this.sink) { this.sink.disconnect(); this.sink = null; }
    if (this.vad) { this.vad.destroy(); this.vad = null; }
    if (this.player) { this.player.close(); }
    this.stats.playing = false;
    if (this.stream) { for (const t of this.stream.getTracks()) t.stop(); this.stream = null; }
    if (this.ctx) { this.ctx.close().catch(() => {}); this.ctx = null; }
  }

  // ---- reporting -------------------------------------------------------------

  setState(state) {
    this.state = state;
    this.stats.state = state;
    this.emit('status', this.status());
  }

  setActivity(a) {
    if (this.activity === a) return;
    this.activity = a;
    this.emit('status', this.status());
  }

  status() {
    return { state: this.state, activity: this.activity, vad: this.vadMode, note: this.note };
  }

  emit(kind, data) {
    try { this.listener(kind, data); } catch (e) { console.error(`os1: voice call ${kind} listener failed`, e); }
  }
}

// refusal asks the server why /api/voice refused the socket: before the
// upgrade it answers errors as JSON (docs/api.md), which a failed WebSocket
// never shows the page.
async function refusal() {
  const fallback = 'Could not open the voice connection (/api/voice). Check that os1 is reachable and try again.';
  try {
    const res = await fetch('/api/voice', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.status === 401) return 'You are signed out. Sign in again to call.';
    if (res.status === 404) return 'This os1 server does not offer voice calls (it has no /api/voice).';
    const body = await res.json();
    const msg = body && body.error && body.error.message;
    if (msg) return capitalize(msg);
  } catch { /* not JSON: the socket failed for another reason */ }
  return fallback;
}

function capitalize(msg) { return msg ? msg[0].toUpperCase() + msg.slice(1) : msg; }

function micError(e) {
  switch (e && e.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new CallError('mic_denied', 'Microphone access was denied. Allow the microphone for this site (the icon in the address bar), then call again.');
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new CallError('no_mic', 'No microphone was found. Connect one and call again.');
    case 'NotReadableError':
    case 'AbortError':
      return new CallError('mic_busy', 'The microphone could not be opened; another app may be using it.');
    default:
      return new CallError('mic_failed', `The microphone could not be opened: ${(e && e.message) || e}`);
  }
}
