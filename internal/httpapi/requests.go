package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/imageio"
)

// imageRequest is the common body of the image routes, as JSON
// ({"image": "<base64 or data URI>", ...}) or multipart/form-data (a file
// field "image" and plain fields).
type imageRequest struct {
	ExternalID string  `json:"external_id"`
	Key        string  `json:"registration_key"`
	Image      string  `json:"image"`
	Liveness   string  `json:"liveness"`
	Force      bool    `json:"force"`
	Async      bool    `json:"async"`
	Limit      int     `json:"limit"`
	Threshold  float64 `json:"threshold"`

	imageBytes []byte
}

// decodeImageRequest reads a JSON or multipart body; the image's size is
// checked before it is decoded from base64.
func (s *Server) decodeImageRequest(r *http.Request) (*imageRequest, error) {
	maxImage := s.svc.Engine().Limits().MaxBytes
	var req imageRequest
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if params["boundary"] == "" {
			return nil, facereg.Errorf(facereg.EINVALID, "multipart body without boundary")
		}
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, facereg.Errorf(facereg.EINVALID, "malformed multipart body")
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, badBody(err)
			}
			name := p.FormName()
			if name == "image" {
				b, err := io.ReadAll(io.LimitReader(p, int64(maxImage)+1))
				if err != nil {
					return nil, badBody(err)
				}
				if len(b) > maxImage {
					return nil, facereg.Errorf(facereg.ImageTooLarge, "image larger than %d bytes", maxImage)
				}
				req.imageBytes = b
				continue
			}
			v, err := io.ReadAll(io.LimitReader(p, 4096))
			if err != nil {
				return nil, badBody(err)
			}
			if err := req.setField(name, string(v)); err != nil {
				return nil, err
			}
		}
		if req.imageBytes == nil {
			return nil, facereg.Errorf(facereg.ImageEmpty, "multipart field \"image\" (a file) is missing")
		}
	default:
		// JSON; also accepted without a Content-Type or with a form or
		// text one, which clients such as curl -d send by default.
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&req); err != nil {
			return nil, badBody(err)
		}
		img, err := imageio.DecodeBase64Limit(req.Image, maxImage)
		if err != nil {
			return nil, err
		}
		req.imageBytes = img
	}
	return &req, nil
}

func (q *imageRequest) setField(name, v string) error {
	var err error
	switch name {
	case "external_id":
		q.ExternalID = v
	case "registration_key":
		q.Key = v
	case "liveness":
		q.Liveness = v
	case "force":
		q.Force, err = strconv.ParseBool(v)
	case "async":
		q.Async, err = strconv.ParseBool(v)
	case "limit":
		q.Limit, err = strconv.Atoi(v)
	case "threshold":
		q.Threshold, err = strconv.ParseFloat(v, 64)
	}
	if err != nil {
		return facereg.Errorf(facereg.EINVALID, "field %s: invalid value", name)
	}
	return nil
}

// badBody turns a body read or JSON error into EINVALID (or ETOOLARGE).
func badBody(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return Normalize(err)
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return facereg.Errorf(facereg.EINVALID, "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return facereg.Errorf(facereg.EINVALID, "field %s must be %s", te.Field, te.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return facereg.Errorf(facereg.EINVALID, "empty or truncated body")
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: ") {
		return facereg.Errorf(facereg.EINVALID, "invalid JSON body")
	}
	return facereg.Errorf(facereg.EINVALID, "invalid request body")
}

// DecodeJSON decodes a JSON body into v with EINVALID errors (for adapters).
func DecodeJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return badBody(err)
	}
	return nil
}
