package facereg

// Reason codes of the image and face checks. Each is documented in
// docs/REASONS.md with its default threshold and the measurement behind it.
const (
	ImageEmpty        = "IMAGE_EMPTY"        // no bytes, or an empty base64 string
	ImageInvalid      = "IMAGE_INVALID"      // corrupt, truncated, bad base64
	UnsupportedFormat = "UNSUPPORTED_FORMAT" // not JPEG, PNG or WebP
	ImageTooLarge     = "IMAGE_TOO_LARGE"    // bytes or pixels above the limit (checked before decoding)
	NoFace            = "NO_FACE"
	MultipleFaces     = "MULTIPLE_FACES"
	FaceTooSmall      = "FACE_TOO_SMALL" // interpupillary distance in pixels
	FaceCropped       = "FACE_CROPPED"   // face partly outside the frame
	PoseTooLarge      = "POSE_TOO_LARGE" // |yaw|, |pitch| or |roll|
	EyesClosed        = "EYES_CLOSED"
	TooDark           = "TOO_DARK"
	TooBright         = "TOO_BRIGHT"
	Blurry            = "BLURRY"
	LivenessFailed    = "LIVENESS_FAILED"
	// NoMatch is the audit reason of a verification that did not match (a
	// non-match is an answer, not an error, in the API).
	NoMatch = "NO_MATCH"
)

// QualityReasons lists the face quality codes in the order they are checked.
var QualityReasons = []string{FaceTooSmall, FaceCropped, PoseTooLarge, EyesClosed, TooDark, TooBright, Blurry}
