package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
)

// Attachments: files sent with a message (docs/attachments.md). The web UI
// sends them on /api/ws in the send frame ("attachments": [{"name", "data"
// (base64)}]); scripts POST the message as multipart/form-data (a "text"
// field and "file" parts). Both end in companion.Send, which checks them
// and stores them with the message in one transaction.

// AttachmentStore is what the server reads of attachments (attach.Store).
type AttachmentStore interface {
	Attachment(ctx context.Context, userID, id string) (attach.Attachment, error)
	List(ctx context.Context, userID string, messageIDs []string) (map[string][]attach.Attachment, error)
}

// MaxSocketFrameBytes bounds one /api/ws frame: a send frame may carry
// every attachment at its limit, base64-encoded.
const MaxSocketFrameBytes = attach.MaxUpload

// attachmentJSON describes an attachment in a transcript; url serves it.
type attachmentJSON struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	MIME  string `json:"mime"`
	Size  int64  `json:"size"`
	Image bool   `json:"image"`
	URL   string `json:"url"`
}

// uploadJSON is an attachment in a send frame; Data is base64 in JSON.
type uploadJSON struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

func uploads(in []uploadJSON) []attach.Upload {
	var out []attach.Upload
	for _, u := range in {
		out = append(out, attach.Upload{Name: u.Name, Data: u.Data})
	}
	return out
}

func attachmentsOut(atts []attach.Attachment) []attachmentJSON {
	if len(atts) == 0 {
		return nil
	}
	out := make([]attachmentJSON, len(atts))
	for i, a := range atts {
		out[i] = attachmentJSON{ID: a.ID, Name: a.Name, MIME: a.MIME, Size: a.Size, Image: a.IsImage(), URL: "/api/attachments/" + a.ID}
	}
	return out
}

// withAttachments lists each user message's attachments in a transcript.
func (s *Server) withAttachments(ctx context.Context, userID string, msgs []messageJSON) error {
	if s.Attachments == nil {
		return nil
	}
	var ids []string
	for _, m := range msgs {
		if m.Role == string(store.RoleUser) {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	listed, err := s.Attachments.List(ctx, userID, ids)
	if err != nil {
		return err
	}
	for i := range msgs {
		msgs[i].Attachments = attachmentsOut(listed[msgs[i].ID])
	}
	return nil
}

// getAttachment serves GET /api/attachments/{id}: the signed-in user's file,
// with its real type, never sniffed by the browser; text files download,
// images show inline. Another user's attachment is 404.
func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request, u store.User) {
	if s.Attachments == nil {
		writeError(w, http.StatusNotFound, "not_found", "not found")
		return
	}
	a, err := s.Attachments.Attachment(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.storeError(w, "read attachment", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.MIME)
	h.Set("Content-Length", strconv.Itoa(len(a.Data)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=86400")
	disposition := "attachment"
	if a.IsImage() {
		disposition = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": a.Name}))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.Data)
	}
}

// isMultipart reports whether a send carries files as multipart/form-data.
func isMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// postMessageWithFiles is POST /api/conversations/{id}/messages as
// multipart/form-data: a "text" field and up to attach.MaxFiles "file"
// parts. The answer is the turn's event stream, as for JSON.
func (s *Server) postMessageWithFiles(w http.ResponseWriter, r *http.Request, u store.User) {
	r.Body = http.MaxBytesReader(w, r.Body, attach.MaxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "could not read the form: "+err.Error())
		return
	}
	var text string
	var files []attach.Upload
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.formError(w, err)
			return
		}
		switch p.FormName() {
		case "text":
			b, err := io.ReadAll(io.LimitReader(p, MaxMessageBytes+1))
			if err != nil {
				s.formError(w, err)
				return
			}
			text = string(b)
		case "file":
			if len(files) == attach.MaxFiles { // one more is enough to say "too many"
				files = append(files, attach.Upload{Name: p.FileName()})
				continue
			}
			b, err := io.ReadAll(io.LimitReader(p, attach.MaxImageSize+1))
			if err != nil {
				s.formError(w, err)
				return
			}
			files = append(files, attach.Upload{Name: p.FileName(), Data: b})
		}
	}
	if len(text) > MaxMessageBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
			fmt.Sprintf("message is larger than the limit of %s", human(MaxMessageBytes)))
		return
	}
	events, err := s.Companion.Send(r.Context(), u.ID, r.PathValue("id"), text, companion.SendOptions{Files: files})
	s.streamTurn(w, r, events, err)
}

func (s *Server) formError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
			fmt.Sprintf("the upload is larger than the limit of %s", human(int(tooBig.Limit))))
		return
	}
	writeError(w, http.StatusBadRequest, "bad_request", "could not read the form: "+err.Error())
}

// attachmentStatus maps an attachment error to its HTTP status and code;
// ok is false for other errors.
func attachmentStatus(err error) (status int, code string, ok bool) {
	switch {
	case errors.Is(err, attach.ErrTooBig), errors.Is(err, attach.ErrTooMany):
		return http.StatusRequestEntityTooLarge, "payload_too_large", true
	case errors.Is(err, attach.ErrUnsupported):
		return http.StatusUnsupportedMediaType, "unsupported_media_type", true
	case errors.Is(err, attach.ErrEmpty), errors.Is(err, companion.ErrNoAttachments):
		return http.StatusBadRequest, "bad_request", true
	}
	return 0, "", false
}

// attachmentMessage is an attachment error in words for the user.
func attachmentMessage(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{attach.ErrTooBig, attach.ErrTooMany, attach.ErrUnsupported, attach.ErrEmpty} {
		msg = strings.TrimSuffix(msg, ": "+sentinel.Error())
	}
	return msg
}
