// AudioWorklet processor "os1-capture": the microphone, downmixed to mono,
// resampled to 16 kHz and posted to the main thread as 20 ms frames of
// signed 16-bit PCM (a transferred 640-byte ArrayBuffer each), ready to be
// sent as binary WebSocket frames on /api/voice (docs/voice-protocol.md).
//
// Loaded with audioWorklet.addModule from this server, so it runs under the
// page's script-src 'self'. It never touches the network or the DOM; the
// main thread stops it by posting "stop".
//
// Resampling: a Hamming-windowed sinc low-pass (cutoff 6.8 kHz, below the
// 8 kHz Nyquist of the output) evaluated at the two input samples around each
// output instant, then linear interpolation between them. That keeps the
// 8–24 kHz band of a 48 kHz microphone from folding into speech.

const TARGET_RATE = 16000;
const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const HALF_TAPS = 32; // the filter has 2*HALF_TAPS+1 taps
const CUTOFF_HZ = 6800;

class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.stopped = false;
    this.port.onmessage = (e) => { if (e.data === 'stop') this.stopped = true; };
    this.direct = sampleRate === TARGET_RATE;
    this.step = sampleRate / TARGET_RATE; // input samples per output sample
    const fc = Math.min(CUTOFF_HZ, 0.425 * sampleRate) / sampleRate; // cycles per input sample
    const taps = new Float32Array(2 * HALF_TAPS + 1);
    let sum = 0;
    for (let j = -HALF_TAPS; j <= HALF_TAPS; j++) {
      const sinc = j === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * j) / (Math.PI * j);
      const w = 0.54 + 0.46 * Math.cos((Math.PI * j) / HALF_TAPS);
      taps[j + HALF_TAPS] = sinc * w;
      sum += sinc * w;
    }
    for (let i = 0; i < taps.length; i++) taps[i] /= sum; // unity gain at DC
    this.taps = taps;
    this.buf = new Float32Array(4096); // unconsumed input, mono
    this.len = 0;
    this.t = HALF_TAPS; // input position of the next output sample, in buf
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.n = 0;
  }

  process(inputs) {
    if (this.stopped) return false;
    const input = inputs[0];
    if (!input || !input.length || !input[0]) return true;
    const frames = input[0].length;
    const channels = input.length;
    if (this.direct) {
      for (let i = 0; i < frames; i++) this.emit(mix(input, channels, i));
      return true;
    }
    if (this.len + frames > this.buf.length) {
      const bigger = new Float32Array(2 * (this.len + frames));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    for (let i = 0; i < frames; i++) this.buf[this.len++] = mix(input, channels, i);
    this.resample();
    return true;
  }

  resample() {
    // An output at position t needs input up to floor(t)+1+HALF_TAPS.
    while (Math.floor(this.t) + 1 + HALF_TAPS < this.len) {
      const i0 = Math.floor(this.t);
      const f = this.t - i0;
      const a = this.fir(i0);
      this.emit(f > 0 ? a + (this.fir(i0 + 1) - a) * f : a);
      this.t += this.step;
    }
    const drop = Math.floor(this.t) - HALF_TAPS; // input no later output reads
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.len);
      this.len -= drop;
      this.t -= drop;
    }
  }

  fir(i) {
    const { taps, buf } = this;
    let s = 0;
    for (let j = -HALF_TAPS; j <= HALF_TAPS; j++) s += taps[j + HALF_TAPS] * buf[i - j];
    return s;
  }

  emit(v) {
    const s = v >= 1 ? 32767 : v <= -1 ? -32768 : Math.round(v * 32767);
    this.frame[this.n++] = s;
    if (this.n === FRAME_SAMPLES) {
      this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
      this.frame = new Int16Array(FRAME_SAMPLES);
      this.n = 0;
    }
  }
}

function mix(input, channels, i) {
  if (channels === 1) return input[0][i];
  let s = 0;
  for (let c = 0; c < channels; c++) s += input[c][i];
  return s / channels;
}

registerProcessor('os1-capture', Capture);
