package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

var (
	firstNames = []string{"Ana", "João", "Maria", "José", "Luíza", "Pedro", "Fernanda", "Raimundo", "Conceição", "Tiago"}
	lastNames  = []string{"Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Araújo", "Gonçalves", "Ribeiro", "Carvalho"}
	texts      = []string{"Olá, quero saber o preço do plano anual", "Vocês entregam em Belo Horizonte?",
		"Obrigado pelo atendimento!", "Qual o prazo de entrega?", "Preciso da 2ª via do boleto", "Bom dia ☀️"}
	ddds = []int{11, 21, 31, 41, 51, 61, 71, 81, 85, 92}
)

func name(r *rand.Rand) string {
	return firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
}

func phone(r *rand.Rand) string {
	return fmt.Sprintf("55%d9%08d", ddds[r.IntN(len(ddds))], r.IntN(100000000))
}

func wamid(r *rand.Rand) string {
	return fmt.Sprintf("wamid.HBgN%016X%08X", r.Uint64(), r.Uint32())
}

// metaJSON marshals v the way Meta sends it: non-ASCII characters escaped as \uXXXX, so the
// signature is over the escaped bytes.
func metaJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of plain values are marshalled here
	}
	var b strings.Builder
	for _, c := range string(raw) {
		switch {
		case c < 0x80:
			b.WriteRune(c)
		case c > 0xFFFF:
			r1, r2 := utf16.EncodeRune(c)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, c)
		}
	}
	return []byte(b.String())
}

type obj = map[string]any

// WhatsAppNotification is a WhatsApp Business Cloud API webhook with one inbound message
// (text, image, location, interactive reply or reaction) and, on some rounds, a status update.
func WhatsAppNotification(r *rand.Rand, now time.Time) []byte {
	from := phone(r)
	ts := strconv.FormatInt(now.Unix(), 10)
	msg := obj{"from": from, "id": wamid(r), "timestamp": ts}
	switch r.IntN(5) {
	case 0, 1:
		msg["type"] = "text"
		msg["text"] = obj{"body": texts[r.IntN(len(texts))]}
	case 2:
		msg["type"] = "image"
		msg["image"] = obj{"id": strconv.FormatUint(r.Uint64(), 10), "mime_type": "image/jpeg",
			"sha256": fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()), "caption": "Comprovante"}
	case 3:
		msg["type"] = "location"
		msg["location"] = obj{"latitude": -23.55 + r.Float64()/10, "longitude": -46.63 + r.Float64()/10,
			"name": "Loja Paulista", "address": "Av. Paulista, 1000 - São Paulo"}
	default:
		msg["type"] = "interactive"
		msg["interactive"] = obj{"type": "button_reply", "button_reply": obj{"id": "quero-comprar", "title": "Quero comprar"}}
	}
	value := obj{
		"messaging_product": "whatsapp",
		"metadata":          obj{"display_phone_number": "5511999990000", "phone_number_id": "106540352242922"},
		"contacts":          []any{obj{"profile": obj{"name": name(r)}, "wa_id": from}},
		"messages":          []any{msg},
	}
	if r.IntN(2) == 0 {
		value["statuses"] = []any{obj{
			"id": wamid(r), "status": []string{"sent", "delivered", "read"}[r.IntN(3)], "timestamp": ts,
			"recipient_id": phone(r),
			"pricing":      obj{"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"},
		}}
	}
	return metaJSON(obj{
		"object": "whatsapp_business_account",
		"entry":  []any{obj{"id": "102290129340398", "changes": []any{obj{"field": "messages", "value": value}}}},
	})
}

// MetaLead is a Meta Lead Ads leadgen webhook.
func MetaLead(r *rand.Rand, now time.Time) []byte {
	return metaJSON(obj{
		"object": "page",
		"entry": []any{obj{"id": "153125381133", "time": now.Unix(), "changes": []any{obj{
			"field": "leadgen",
			"value": obj{
				"leadgen_id": strconv.FormatUint(r.Uint64()%1e15, 10), "page_id": "153125381133",
				"form_id": "444444444444", "adgroup_id": "23842000000000000", "ad_id": "23842000000000001",
				"created_time": now.Unix(),
			},
		}}}},
	})
}

// PloomesDeal is a Ploomes deal update webhook in the {Action, Entity, Old, New} shape.
func PloomesDeal(r *rand.Rand, now time.Time) []byte {
	id := 400000 + r.IntN(1000)
	status := []int{1, 1, 2, 3}[r.IntN(4)]
	amount := float64(r.IntN(5000000)) / 100
	last := now.In(saoPaulo).Format("2006-01-02T15:04:05-07:00")
	contact := name(r)
	b, _ := json.Marshal(obj{
		"Action": "Update", "Entity": "Deal",
		"Old": obj{"Id": id, "Title": "Plano anual - " + contact, "StatusId": 1, "Amount": amount},
		"New": obj{"Id": id, "Title": "Plano anual - " + contact, "StatusId": status, "Amount": amount,
			"ContactId": 100000 + r.IntN(5000), "LastUpdateDate": last,
			"ProductCategory": []string{"CRM", "ERP", "BI"}[id%3],
			"ContactEmail":    contactEmail(r, contact), "ContactPhone": contactPhone(r)},
	})
	return b
}

// contactEmail is the deal contact's e-mail as CRM users type it: now and
// then in capitals or with stray spaces, sometimes missing (nil).
func contactEmail(r *rand.Rand, contact string) any {
	user := strings.ToLower(strings.ReplaceAll(contact, " ", "."))
	switch r.IntN(10) {
	case 0:
		return nil
	case 1:
		return "  " + strings.ToUpper(user) + "@Exemplo.com.br "
	}
	return user + "@exemplo.com.br"
}

// contactPhone is the contact's phone in E.164, sometimes missing (nil).
func contactPhone(r *rand.Rand) any {
	if r.IntN(4) == 0 {
		return nil
	}
	return "+" + phone(r)
}

// ShopOrder is a web-shop order event for the generic events endpoint.
func ShopOrder(r *rand.Rand, now time.Time) []byte {
	b, _ := json.Marshal(obj{
		"order_id": fmt.Sprintf("PED-%06d", r.IntN(1000000)), "customer_email": strings.ToLower(strings.ReplaceAll(name(r), " ", ".")) + "@exemplo.com.br",
		"total": fmt.Sprintf("%d.%02d", 50+r.IntN(2000), r.IntN(100)), "currency": "BRL",
		"created_at": now.Format(time.RFC3339),
	})
	return b
}

// SpreadsheetCSV is a legacy customer sheet as pt-BR spreadsheets export it: ';' separated,
// decimal comma, dd/mm/yyyy dates.
func SpreadsheetCSV(r *rand.Rand) []byte {
	var b strings.Builder
	b.WriteString("Código;Nome;Cidade;Limite Crédito;Data Cadastro\n")
	cities := []string{"São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Recife"}
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "%d;%s;%s;%d.%03d,%02d;%02d/%02d/20%02d\n", 1000+i, name(r), cities[r.IntN(len(cities))],
			r.IntN(99), r.IntN(1000), r.IntN(100), 1+r.IntN(28), 1+r.IntN(12), 15+r.IntN(10))
	}
	return []byte(b.String())
}

// saoPaulo is America/Sao_Paulo, UTC-3 with no daylight saving time since 2019.
var saoPaulo = time.FixedZone("-03", -3*3600)

// BenchNotification is a fixed WhatsApp notification of about 1 KiB with one text message,
// the payload of the intake load benchmark.
func BenchNotification() []byte {
	body := strings.Repeat("Olá! Gostaria de saber mais sobre o plano anual e as formas de pagamento. ", 8)
	return metaJSON(obj{
		"object": "whatsapp_business_account",
		"entry": []any{obj{"id": "102290129340398", "changes": []any{obj{"field": "messages", "value": obj{
			"messaging_product": "whatsapp",
			"metadata":          obj{"display_phone_number": "5511999990000", "phone_number_id": "106540352242922"},
			"contacts":          []any{obj{"profile": obj{"name": "Conceição Araújo"}, "wa_id": "5511987654321"}},
			"messages": []any{obj{"from": "5511987654321", "id": "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBDNzQ2RjU1NjY4MjE4QkRBAA==",
				"timestamp": "1764158400", "type": "text", "text": obj{"body": body}}},
		}}}}},
	})
}
