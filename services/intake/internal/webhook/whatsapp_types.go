package webhook

// The decoded parts of a WhatsApp Business Cloud API notification. The scanner fills them;
// raw holds the original bytes of the objects that become payloads.

type waChange struct {
	raw      []byte // the change object
	rawText  string // raw as a string
	field    string
	value    []byte // the change's value
	v        waValue
	shapeErr error // the value did not have the messages shape
}

type waValue struct {
	displayPhoneNumber string
	phoneNumberID      string
	contacts           []waContact
	messages           []waMessage
	statuses           []waStatus
	errors             []byte
}

type waContact struct {
	name     string
	username string
	waID     string
	userID   string
}

type waMedia struct {
	id, mimeType, sha256, caption, filename string
}

type waReply struct {
	id, title, description string
}

type waOrderItem struct {
	productRetailerID, quantity, itemPrice, currency string
}

type waMessage struct {
	raw        string
	from       string
	fromUserID string
	id         string
	timestamp  string
	typ        string

	hasContext          bool
	contextFrom         string
	contextID           string
	forwarded           bool
	frequentlyForwarded bool

	textBody string
	media    waMedia // first of image, audio, video, document, sticker

	hasLocation     bool
	latitude        string
	longitude       string
	locationName    string
	locationAddress string
	interactiveType string
	reply           waReply
	buttonPayload   string
	buttonText      string
	reactionID      string
	reactionEmoji   string
	hasOrder        bool
	orderCatalogID  string
	orderText       string
	orderItems      []waOrderItem
	hasOrderItems   bool
	hasReferral     bool
	referral        waReferral
	errors          []byte
}

type waReferral struct {
	sourceURL, sourceID, sourceType, headline, ctwaClid string
}

type waStatus struct {
	raw                   string
	id                    string
	status                string
	timestamp             string
	recipientID           string
	recipientUserID       string
	bizOpaqueCallbackData string

	hasConversation        bool
	conversationID         string
	conversationOriginType string
	conversationExpiration string

	hasPricing      bool
	pricingBillable *bool
	pricingModel    string
	pricingCategory string
	pricingType     string

	errors []byte
}
