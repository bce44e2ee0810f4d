package webhook

// Scanner-driven decoding of the WhatsApp notification parts. Unknown keys are skipped (and
// validated); null values count as absent.

// entry decodes one entry[] object.
func (p *waParser) entry(s *jsonScanner, e *waEntryData) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "id":
			return s.scalar(&e.id)
		case "time":
			return s.scalar(&e.time)
		case "changes":
			if null, err := s.null(); null || err != nil {
				return err
			}
			return s.array(func(int) error {
				return p.change(s, e.nextChange())
			})
		}
		return s.skipValue()
	})
}

// change decodes one changes[] object. The value is read as a messages value whatever the
// field (Meta sends "value" before "field"); a shape mismatch is kept for later, and matters
// only when the field turns out to be "messages".
func (p *waParser) change(s *jsonScanner, c *waChange) error {
	s.ws()
	start := s.i
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "field":
			return s.str(&c.field)
		case "value":
			s.ws()
			vstart := s.i
			if s.peek() != '{' {
				if err := s.skipValue(); err != nil {
					return err
				}
				c.value = s.b[vstart:s.i]
				c.shapeErr = &jsonShapeError{path: "value", msg: "want an object, got " + jsonKind(c.value)}
				return nil
			}
			if err := p.value(s, &c.v); err != nil {
				if !isShapeError(err) {
					return err
				}
				c.shapeErr = inPath(err, "value")
				s.i = vstart
				if err := s.skipValue(); err != nil {
					return err
				}
			}
			c.value = s.b[vstart:s.i]
			return nil
		}
		return s.skipValue()
	})
	c.raw = s.b[start:s.i]
	c.rawText = s.textAt(start, s.i)
	return err
}

// value decodes a messages change's value.
func (p *waParser) value(s *jsonScanner, v *waValue) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "metadata":
			if null, err := s.null(); null || err != nil {
				return err
			}
			return s.object(func(key []byte) error {
				switch string(key) {
				case "display_phone_number":
					return s.scalar(&v.displayPhoneNumber)
				case "phone_number_id":
					return s.scalar(&v.phoneNumberID)
				}
				return s.skipValue()
			})
		case "contacts":
			if null, err := s.null(); null || err != nil {
				return err
			}
			return s.array(func(int) error {
				return decodeContact(s, nextZero(&v.contacts))
			})
		case "messages":
			if null, err := s.null(); null || err != nil {
				return err
			}
			return s.array(func(int) error {
				return decodeMessage(s, v.nextMessage())
			})
		case "statuses":
			if null, err := s.null(); null || err != nil {
				return err
			}
			return s.array(func(int) error {
				return decodeStatus(s, nextZero(&v.statuses))
			})
		case "errors":
			raw, err := s.skipRaw()
			v.errors = raw
			return err
		}
		return s.skipValue()
	})
}

func decodeContact(s *jsonScanner, c *waContact) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "wa_id":
			return s.scalar(&c.waID)
		case "user_id":
			return s.str(&c.userID)
		case "profile":
			return objectOrNull(s, func(key []byte) error {
				switch string(key) {
				case "name":
					return s.str(&c.name)
				case "username":
					return s.str(&c.username)
				}
				return s.skipValue()
			})
		}
		return s.skipValue()
	})
}

// objectOrNull decodes an object with fn, or accepts null.
func objectOrNull(s *jsonScanner, fn func(key []byte) error) error {
	if null, err := s.null(); null || err != nil {
		return err
	}
	return s.object(fn)
}

func decodeStatus(s *jsonScanner, st *waStatus) error {
	s.ws()
	start := s.i
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "id":
			return s.str(&st.id)
		case "status":
			return s.str(&st.status)
		case "timestamp":
			return s.scalar(&st.timestamp)
		case "recipient_id":
			return s.scalar(&st.recipientID)
		case "recipient_user_id":
			return s.str(&st.recipientUserID)
		case "biz_opaque_callback_data":
			return s.str(&st.bizOpaqueCallbackData)
		case "conversation":
			st.hasConversation = s.peek() == '{'
			return objectOrNull(s, func(key []byte) error {
				switch string(key) {
				case "id":
					return s.str(&st.conversationID)
				case "expiration_timestamp":
					return s.scalar(&st.conversationExpiration)
				case "origin":
					return objectOrNull(s, func(key []byte) error {
						if string(key) == "type" {
							return s.str(&st.conversationOriginType)
						}
						return s.skipValue()
					})
				}
				return s.skipValue()
			})
		case "pricing":
			st.hasPricing = s.peek() == '{'
			return objectOrNull(s, func(key []byte) error {
				switch string(key) {
				case "billable":
					return s.boolean(&st.pricingBillable)
				case "pricing_model":
					return s.str(&st.pricingModel)
				case "category":
					return s.str(&st.pricingCategory)
				case "type":
					return s.str(&st.pricingType)
				}
				return s.skipValue()
			})
		case "errors":
			raw, err := s.skipRaw()
			st.errors = raw
			return err
		}
		return s.skipValue()
	})
	st.raw = s.textAt(start, s.i)
	return err
}
