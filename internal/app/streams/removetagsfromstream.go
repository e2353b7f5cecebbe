package streams

// RemoveTagsFromStream.
//
// Behavior: as AWS: 1 to 50 keys per call; keys that are not set are
// ignored.

type removeTagsInput struct {
	StreamName string   `json:"StreamName"`
	StreamARN  string   `json:"StreamARN"`
	TagKeys    []string `json:"TagKeys"`
}

func (s *Service) removeTagsFromStream(c *call) error {
	var in removeTagsInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if len(in.TagKeys) < 1 || len(in.TagKeys) > 50 {
		return validationf(len(in.TagKeys), "tagKeys", "have between 1 and 50 entries")
	}
	st, err := s.resolveStream(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	err = st.Update(func(_ *int, tags map[string]string) error {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.reply(struct{}{})
}
