package webhook

// Scanner-driven decoding of one WhatsApp message object.

// decodeMedia decodes an image/audio/video/document/sticker object into m unless m is already set.
func decodeMedia(s *jsonScanner, m *waMedia) error {
	var md waMedia
	err := objectOrNull(s, func(key []byte) error {
		switch string(key) {
		case "id":
			return s.scalar(&md.id)
		case "mime_type":
			return s.str(&md.mimeType)
		case "sha256":
			return s.str(&md.sha256)
		case "caption":
			return s.str(&md.caption)
		case "filename":
			return s.str(&md.filename)
		}
		return s.skipValue()
	})
	if m.id == "" && m.mimeType == "" {
		*m = md
	}
	return err
}

func decodeReply(s *jsonScanner, r *waReply) error {
	return objectOrNull(s, func(key []byte) error {
		switch string(key) {
		case "id":
			return s.str(&r.id)
		case "title":
			return s.str(&r.title)
		case "description":
			return s.str(&r.description)
		}
		return s.skipValue()
	})
}

func decodeMessage(s *jsonScanner, m *waMessage) error {
	s.ws()
	start := s.i
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "from":
			return s.scalar(&m.from)
		case "from_user_id":
			return s.str(&m.fromUserID)
		case "id":
			return s.str(&m.id)
		case "timestamp":
			return s.scalar(&m.timestamp)
		case "type":
			return s.str(&m.typ)
		case "context":
			m.hasContext = s.peek() == '{'
			return objectOrNull(s, func(key []byte) error {
				switch string(key) {
				case "from":
					return s.scalar(&m.contextFrom)
				case "id":
					return s.str(&m.contextID)
				case "forwarded":
					return boolInto(s, &m.forwarded)
				case "frequently_forwarded":
					return boolInto(s, &m.frequentlyForwarded)
				}
				return s.skipValue()
			})
		case "text":
			return objectOrNull(s, func(key []byte) error {
				if string(key) == "body" {
					return s.str(&m.textBody)
				}
				return s.skipValue()
			})
		case "image", "audio", "video", "document", "sticker":
			return decodeMedia(s, &m.media)
		case "location":
			return decodeLocation(s, m)
		case "interactive":
			return objectOrNull(s, func(key []byte) error {
				switch string(key) {
				case "type":
					return s.str(&m.interactiveType)
				case "button_reply", "list_reply":
					return decodeReply(s, &m.reply)
				case "nfm_reply":
					return objectOrNull(s, func(key []byte) error {
						switch string(key) {
						case "name":
							return s.str(&m.reply.title)
						case "body":
							return s.str(&m.reply.description)
						}
						return s.skipValue()
					})
				}
				return s.skipValue()
			})
		case "button":
			return objectOrNull(s, func(key []byte) error {
				switch string(key) {
				case "payload":
					return s.str(&m.buttonPayload)
				case "text":
					return s.str(&m.buttonText)
				}
				return s.skipValue()
			})
		case "reaction":
			return objectOrNull(s, func(key []byte) error {
				switch string(key) {
				case "message_id":
					return s.str(&m.reactionID)
				case "emoji":
					return s.str(&m.reactionEmoji)
				}
				return s.skipValue()
			})
		case "order":
			return decodeOrder(s, m)
		case "referral":
			m.hasReferral = s.peek() == '{'
			return objectOrNull(s, func(key []byte) error {
				r := &m.referral
				switch string(key) {
				case "source_url":
					return s.str(&r.sourceURL)
				case "source_id":
					return s.scalar(&r.sourceID)
				case "source_type":
					return s.str(&r.sourceType)
				case "headline":
					return s.str(&r.headline)
				case "ctwa_clid":
					return s.str(&r.ctwaClid)
				}
				return s.skipValue()
			})
		case "errors":
			raw, err := s.skipRaw()
			m.errors = raw
			return err
		}
		return s.skipValue()
	})
	m.raw = s.textAt(start, s.i)
	return err
}

func decodeLocation(s *jsonScanner, m *waMessage) error {
	m.hasLocation = s.peek() == '{'
	return objectOrNull(s, func(key []byte) error {
		switch string(key) {
		case "latitude":
			return s.scalar(&m.latitude)
		case "longitude":
			return s.scalar(&m.longitude)
		case "name":
			return s.str(&m.locationName)
		case "address":
			return s.str(&m.locationAddress)
		}
		return s.skipValue()
	})
}

func decodeOrder(s *jsonScanner, m *waMessage) error {
	if null, err := s.null(); null || err != nil {
		return err
	}
	m.hasOrder = true
	return s.object(func(key []byte) error {
		switch string(key) {
		case "catalog_id":
			return s.scalar(&m.orderCatalogID)
		case "text":
			return s.str(&m.orderText)
		case "product_items":
			if null, err := s.null(); null || err != nil {
				return err
			}
			m.hasOrderItems = true
			return s.array(func(int) error {
				it := nextZero(&m.orderItems)
				return s.object(func(key []byte) error {
					switch string(key) {
					case "product_retailer_id":
						return s.scalar(&it.productRetailerID)
					case "quantity":
						return s.scalar(&it.quantity)
					case "item_price":
						return s.scalar(&it.itemPrice)
					case "currency":
						return s.str(&it.currency)
					}
					return s.skipValue()
				})
			})
		}
		return s.skipValue()
	})
}

// boolInto decodes a boolean or null (false) into dst.
func boolInto(s *jsonScanner, dst *bool) error {
	var b *bool
	if err := s.boolean(&b); err != nil {
		return err
	}
	*dst = b != nil && *b
	return nil
}
