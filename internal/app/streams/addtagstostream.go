package streams

// AddTagsToStream.
//
// Behavior: as AWS: up to 10 tags per call (ValidationException beyond),
// up to 50 tags per stream (InvalidArgumentException beyond), keys of 1 to
// 128 and values of 0 to 256 characters; an existing key's value is
// replaced.

import (
	"unicode/utf8"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
)

type addTagsInput struct {
	StreamName string            `json:"StreamName"`
	StreamARN  string            `json:"StreamARN"`
	Tags       map[string]string `json:"Tags"`
}

const maxTagsPerStream = 50

// validateTags checks tag keys and values and the per-stream limit when
// added to existing tags.
func validateTags(tags, existing map[string]string) error {
	n := len(existing)
	for k, v := range tags {
		if l := utf8.RuneCountInString(k); l < 1 || l > 128 {
			return validationf(k, "tags.key", "have length between 1 and 128")
		}
		if utf8.RuneCountInString(v) > 256 {
			return validationf(v, "tags.value", "have length less than or equal to 256")
		}
		if _, ok := existing[k]; !ok {
			n++
		}
	}
	if n > maxTagsPerStream {
		return awswire.Errorf(awswire.InvalidArgument, "A stream can have at most %d tags; this request would make it %d.", maxTagsPerStream, n)
	}
	return nil
}

func (s *Service) addTagsToStream(c *call) error {
	var in addTagsInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if len(in.Tags) < 1 || len(in.Tags) > 10 {
		return validationf(len(in.Tags), "tags", "have between 1 and 10 entries")
	}
	st, err := s.resolveStream(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	err = st.Update(func(_ *int, tags map[string]string) error {
		if err := validateTags(in.Tags, tags); err != nil {
			return err
		}
		for k, v := range in.Tags {
			tags[k] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.reply(struct{}{})
}
