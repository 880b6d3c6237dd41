package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/voice"
)

// `os1 talk` is one voice turn from a WAV file, through the same pipeline
// and engines as a call: it works on the data directory like `os1 memory`,
// so it needs no running server.

type talkResult struct {
	ConversationID string           `json:"conversation_id"`
	MessageID      string           `json:"message_id,omitempty"`
	Transcript     string           `json:"transcript"`
	Reply          string           `json:"reply"`
	ReplyAudio     string           `json:"reply_audio,omitempty"`
	ReplySeconds   float64          `json:"reply_seconds"`
	STT            string           `json:"stt"`
	TTS            string           `json:"tts"`
	TimingsMS      map[string]int64 `json:"timings_ms"`
}

func (e *env) talkCmd() *cobra.Command {
	var (
		in, out, username, conv string
		asJSON                  bool
		timeout                 time.Duration
	)
	cmd := &cobra.Command{
		Use:   "talk --wav IN.wav [--out REPLY.wav]",
		Short: "One voice turn from a WAV file: prints what you said and her reply, writes her spoken reply",
		Long: "Transcribes IN.wav (any common sample rate, mono or stereo), sends it to the companion as your\n" +
			"message, and speaks her reply into REPLY.wav with the configured voice engines (`os1 doctor` lists them).\n" +
			"Works on the data directory like `os1 memory`, for --user NAME or the only user; the turn is stored\n" +
			"in the conversation given with -c, or in a new one.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" {
				return errors.New("--wav is required: the recording to answer")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			res, err := e.talk(ctx, in, out, username, conv)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(e.stdout, "you: %s\n%s: %s\n", res.Transcript, "her", res.Reply)
			if res.ReplyAudio != "" {
				fmt.Fprintf(e.stdout, "(%.1f s of speech in %s; conversation %s)\n", res.ReplySeconds, res.ReplyAudio, res.ConversationID)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in, "wav", "", "the recording to answer (WAV)")
	f.StringVar(&out, "out", "", "where to write her spoken reply (WAV); none when empty")
	f.StringVar(&username, "user", "", "username to talk as (default: the only user)")
	f.StringVarP(&conv, "conversation", "c", "", "continue this conversation (default: a new one)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON, with stage timings")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long")
	return cmd
}

func (e *env) talk(ctx context.Context, in, out, username, conv string) (talkResult, error) {
	f, err := os.Open(in)
	if err != nil {
		return talkResult{}, fmt.Errorf("open the recording: %w", err)
	}
	pcm, err := audio.DecodeWAV(f)
	f.Close()
	if err != nil {
		return talkResult{}, fmt.Errorf("read %s: %w", in, err)
	}
	if out != "" {
		// Fail before the turn, not after it, when the reply cannot be written.
		if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
			return talkResult{}, fmt.Errorf("cannot write %s: no folder %s", out, filepath.Dir(out))
		}
	}
	cfg, err := e.config()
	if err != nil {
		return talkResult{}, err
	}
	if _, err := os.Stat(cfg.DBPath()); err != nil && !cfg.Postgres() {
		return talkResult{}, fmt.Errorf("no os1 database at %s (is the data dir right? --data-dir or OS1_DATA_DIR)", cfg.DBPath())
	}
	lock, err := e.lockDataDir("os1 talk")
	if err != nil {
		return talkResult{}, err
	}
	defer lock.Release()
	a, err := app.NewTalk(ctx, cfg, app.Options{Log: newLogger(cfg, e), Version: Version})
	if err != nil {
		return talkResult{}, err
	}
	defer a.Close()
	if a.Voice.Pipeline == nil {
		return talkResult{}, fmt.Errorf("%w (`os1 doctor` says what to install or set)", a.Voice.Err)
	}
	u, err := pickUser(ctx, a.DB, username)
	if err != nil {
		return talkResult{}, err
	}
	if st := a.Models.Refresh(ctx); !st.Connected {
		return talkResult{}, fmt.Errorf("no language model connected: %s (see `os1 doctor`)", st.Error)
	}
	r, err := a.Voice.Pipeline.Turn(ctx, u.ID, conv, pcm)
	stt, tts := a.Voice.Pipeline.Engines()
	res := talkResult{ConversationID: r.ConversationID, MessageID: r.MessageID, Transcript: r.Transcript, Reply: r.Reply,
		STT: stt, TTS: tts, TimingsMS: map[string]int64{}, ReplySeconds: r.Audio.Duration().Seconds()}
	for st, d := range map[string]time.Duration{voice.StageTranscript: r.Timeline.Transcript,
		voice.StageFirstToken: r.Timeline.FirstToken, voice.StageFirstAudio: r.Timeline.FirstAudio} {
		if r.Timeline.Has(st) {
			res.TimingsMS[st] = d.Milliseconds()
		}
	}
	if errors.Is(err, voice.ErrNoSpeech) {
		return res, fmt.Errorf("%s holds no speech that %s could make out (%.1f s of audio)", in, stt, pcm.Duration().Seconds())
	}
	if err != nil {
		return res, err
	}
	if out != "" && len(r.Audio.Samples) > 0 {
		if err := os.WriteFile(out, audio.WAV(r.Audio), 0o644); err != nil {
			return res, fmt.Errorf("write the reply: %w", err)
		}
		res.ReplyAudio = out
	}
	return res, nil
}
