package amofake

// ownedChange is the part of a lead or contact change the two entities
// share: the responsible user, the authors, the timestamps, the custom
// fields and the tags. amoCRM validates and applies them alike.
type ownedChange struct {
	resp                 *int64
	createdBy, updatedBy *int64
	createdAt, updatedAt *int64
	fields               []fieldChange
	tagsAdd, tagsDel     []string
	tagsSet              []string
	setTags              bool
}

// checkOwned validates the shared top-level keys of one item; entity
// ("leads", "contacts") names whose custom fields apply. Caller holds mu.
func (s *Server) checkOwned(o map[string]any, entity string, c *check) ownedChange {
	var ch ownedChange
	for key, dst := range map[string]**int64{"created_at": &ch.createdAt, "updated_at": &ch.updatedAt} {
		if n, ok := optInt(o, key, c); ok {
			*dst = &n
		}
	}
	if n, ok := optInt(o, "responsible_user_id", c); ok {
		if s.userKnown(n) {
			ch.resp = &n
		} else {
			c.add(codeNotSupported, "responsible_user_id")
		}
	}
	for key, dst := range map[string]**int64{"created_by": &ch.createdBy, "updated_by": &ch.updatedBy} {
		if n, ok := optInt(o, key, c); ok {
			if n == 0 || s.userKnown(n) {
				*dst = &n
			} else {
				c.add(codeNotSupported, key)
			}
		}
	}
	ch.fields = s.parseFields(entity, o["custom_fields_values"], c)
	if raw, has := o["tags_to_add"]; has {
		ch.tagsAdd = s.parseTags(raw, "tags_to_add", c)
	}
	if raw, has := o["tags_to_delete"]; has {
		ch.tagsDel = s.parseTags(raw, "tags_to_delete", c)
	}
	return ch
}

// checkEmbeddedTags reads _embedded.tags, which replace the tags.
func (s *Server) checkEmbeddedTags(emb map[string]any, ch *ownedChange, c *check) {
	if rawTags, has := emb["tags"]; has {
		ch.tagsSet = s.parseTags(rawTags, "_embedded.tags", c)
		ch.setTags = true
	}
}

// ownedFields points at the stored entity's fields an ownedChange sets.
type ownedFields struct {
	resp, createdBy, updatedBy *int64
	createdAt, updatedAt       *int64
	fields                     *[]Field
	tags                       *[]string
}

// applyOwned writes a validated change; updated_at is now unless the
// change sets it. Caller holds mu.
func (s *Server) applyOwned(ch ownedChange, f ownedFields) {
	for _, p := range []struct{ dst, src *int64 }{
		{f.resp, ch.resp}, {f.createdBy, ch.createdBy}, {f.updatedBy, ch.updatedBy}, {f.createdAt, ch.createdAt},
	} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	*f.updatedAt = s.now().Unix()
	if ch.updatedAt != nil {
		*f.updatedAt = *ch.updatedAt
	}
	*f.fields = applyFields(*f.fields, ch.fields)
	if ch.setTags {
		*f.tags = nil
	}
	for _, t := range append(ch.tagsSet, ch.tagsAdd...) {
		s.tagID(t)
		if !containsStr(*f.tags, t) {
			*f.tags = append(*f.tags, t)
		}
	}
	for _, t := range ch.tagsDel {
		*f.tags = removeStr(*f.tags, t)
	}
}
