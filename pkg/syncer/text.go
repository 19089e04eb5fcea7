package syncer

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// Russian labels of Kaspi's enums, for the notes a manager reads. An
// unknown value is shown as Kaspi sent it.
var (
	statusNames = map[string]string{
		domain.StatusApprovedByBank:               "Одобрен банком",
		domain.StatusAcceptedByMerchant:           "Принят продавцом",
		domain.StatusCompleted:                    "Выдан покупателю",
		domain.StatusCancelled:                    "Отменён",
		domain.StatusCancelling:                   "Отменяется",
		domain.StatusKaspiDeliveryReturnRequested: "Запрошен возврат (Kaspi Доставка)",
		domain.StatusReturnAcceptedByMerchant:     "Возврат ожидает решения",
		domain.StatusReturned:                     "Возвращён",
	}
	stateNames = map[string]string{
		domain.StateNew:           "Новый",
		domain.StateSignRequired:  "Ожидает подписания",
		domain.StatePickup:        "Самовывоз",
		domain.StateDelivery:      "Доставка продавцом",
		domain.StateKaspiDelivery: "Kaspi Доставка",
		domain.StateArchive:       "Архив",
	}
	cancellationReasons = map[string]string{
		"BUYER_CANCELLATION_BY_MERCHANT": "покупатель отказался (отменил продавец)",
		"BUYER_NOT_REACHABLE":            "не удалось связаться с покупателем",
		"MERCHANT_OUT_OF_STOCK":          "нет товара в наличии",
		"BUYER_CANCELLATION_HIMSELF":     "покупатель отменил заказ сам",
		"BUYER_CANCELLATION_BY_COURIER":  "покупатель отказался при получении у курьера",
		"BUYER_CANCELLATION_BY_CSC":      "отменён службой поддержки Kaspi по просьбе покупателя",
		"TIMEOUT_BUYER_PICKUP":           "покупатель не забрал заказ вовремя",
		"TIMEOUT_BUYER_SIGNATURE":        "покупатель не подписал документы вовремя",
		"TIMEOUT_KASPI_DELIVERY":         "истёк срок Kaspi Доставки",
		"RFO_REJECTED":                   "банк отказал в кредите",
		"TECHNICAL_PROBLEM_CANCELLATION": "техническая проблема",
	}
	paymentModes = map[string]string{
		"PAY_WITH_CREDIT": "кредит или рассрочка Kaspi",
		"PREPAID":         "оплачен безналично",
	}
)

// cancellationReasonText is the Russian wording of a Kaspi cancellation
// reason (the code itself when it is not a known one).
func cancellationReasonText(code string) string {
	if s, ok := cancellationReasons[code]; ok {
		return s
	}
	return code
}

// statusLabel describes where an order stands at Kaspi, e.g.
// «Отменён» (CANCELLED, ARCHIVE). A row adopted from the PHP version knows
// only the state.
func statusLabel(status, state string) string {
	switch {
	case status != "" && state != "":
		return fmt.Sprintf("«%s» (%s, %s)", label(statusNames, status), status, state)
	case status != "":
		return fmt.Sprintf("«%s» (%s)", label(statusNames, status), status)
	case state != "":
		return fmt.Sprintf("«%s» (%s)", label(stateNames, state), state)
	}
	return "«неизвестно»"
}

func label(m map[string]string, k string) string {
	if s, ok := m[k]; ok {
		return s
	}
	return k
}

// deliveryModeText is the Russian wording of deliveryMode × isKaspiDelivery.
func deliveryModeText(o *domain.Order) string {
	switch o.DeliveryMode {
	case "DELIVERY_LOCAL":
		if o.IsKaspiDelivery {
			return "Kaspi Доставка по городу"
		}
		return "доставка продавцом по городу"
	case "DELIVERY_PICKUP":
		if o.IsKaspiDelivery {
			return "Kaspi Постомат"
		}
		return "самовывоз из пункта продавца"
	case "DELIVERY_REGIONAL_TODOOR":
		return "Kaspi Доставка до двери (межгород)"
	case "DELIVERY_REGIONAL_PICKUP":
		return "региональная доставка до пункта выдачи"
	case "":
		if o.IsKaspiDelivery {
			return "Kaspi Доставка"
		}
		return ""
	}
	return o.DeliveryMode
}

// money formats a tenge amount the way people write it: 45 990 ₸, or
// 999,50 ₸ when there are tiyn.
func money(v float64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	cents := int64(math.Round(v * 100))
	whole, frac := cents/100, cents%100
	s := strconv.FormatInt(whole, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	if frac != 0 {
		fmt.Fprintf(&b, ",%02d", frac)
	}
	b.WriteString(" ₸")
	return b.String()
}

// quantity formats a line quantity: 2, or 1,5 for weighed goods.
func quantity(q float64) string {
	if q == math.Trunc(q) {
		return strconv.FormatFloat(q, 'f', 0, 64)
	}
	return strings.ReplaceAll(strconv.FormatFloat(q, 'f', -1, 64), ".", ",")
}

// addressText is a delivery address as one line: Kaspi's formatted address,
// or its parts joined when that is missing.
func addressText(a *domain.Address) string {
	if a == nil {
		return ""
	}
	if s := strings.TrimSpace(a.Formatted); s != "" {
		return s
	}
	var parts []string
	add := func(prefix, s string) {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, prefix+s)
		}
	}
	add("", a.Town)
	add("", a.District)
	street := strings.TrimSpace(strings.TrimSpace(a.StreetName) + " " + strings.TrimSpace(a.StreetNumber))
	add("", street)
	add("корп. ", a.Building)
	add("кв. ", a.Apartment)
	return strings.Join(parts, ", ")
}

// orderNote is the note written on a new deal: what was bought, how it is
// delivered and paid, and why the deal has no contact when it has none.
// noContact is that reason ("" when a contact is attached).
func orderNote(o *domain.Order, noContact string, loc *time.Location) string {
	var b strings.Builder
	b.WriteString(noteHead(o.Code) + "\n")
	if o.Status != "" || o.State != "" {
		fmt.Fprintf(&b, "Статус Kaspi: %s\n", statusLabel(o.Status, o.State))
	}
	if o.CreationMs > 0 {
		fmt.Fprintf(&b, "Дата заказа: %s\n", time.UnixMilli(o.CreationMs).In(loc).Format("02.01.2006 15:04"))
	}
	if len(o.Lines) > 0 {
		b.WriteString("\nТовары:\n")
		for i, l := range o.Lines {
			sum := l.TotalPrice
			if sum == 0 {
				sum = l.BasePrice * l.Quantity
			}
			name := strings.TrimSpace(l.Name)
			if name == "" {
				name = "Товар"
			}
			fmt.Fprintf(&b, "%d. %s", i+1, name)
			if l.SKU != "" {
				fmt.Fprintf(&b, " (арт. %s)", l.SKU)
			}
			fmt.Fprintf(&b, ": %s шт. × %s = %s\n", quantity(l.Quantity), money(l.BasePrice), money(sum))
		}
		for i, l := range o.Lines {
			if strings.TrimSpace(l.SKU) == "" {
				fmt.Fprintf(&b, "позиция без артикула: %d. %s — Kaspi не передал код товара продавца, товар к сделке не привязан\n",
					i+1, noSKUName(l))
			}
		}
	}
	fmt.Fprintf(&b, "Итого за товары: %s\n", money(o.TotalPrice))

	var delivery []string
	if s := deliveryModeText(o); s != "" {
		delivery = append(delivery, "Доставка: "+s)
	}
	if s := addressText(o.Address); s != "" {
		delivery = append(delivery, "Адрес: "+s)
	}
	if o.DeliveryCost > 0 {
		delivery = append(delivery, "Стоимость доставки: "+money(o.DeliveryCost))
	}
	if o.PlannedDeliveryMs > 0 {
		delivery = append(delivery, "Плановая дата доставки: "+time.UnixMilli(o.PlannedDeliveryMs).In(loc).Format("02.01.2006"))
	}
	if o.PickupPointID != "" {
		delivery = append(delivery, "Пункт выдачи: "+o.PickupPointID)
	}
	if o.WaybillNumber != "" || o.Waybill != "" {
		w := strings.TrimSpace("№ " + o.WaybillNumber)
		if o.WaybillNumber == "" {
			w = ""
		}
		if o.Waybill != "" {
			w = strings.TrimSpace(w + " " + o.Waybill)
		}
		delivery = append(delivery, "Накладная: "+w)
	}
	if o.PreOrder {
		delivery = append(delivery, "Предзаказ")
	}
	if len(delivery) > 0 {
		b.WriteString("\n" + strings.Join(delivery, "\n") + "\n")
	}

	if o.PaymentMode != "" {
		pay := "Оплата: " + label(paymentModes, o.PaymentMode)
		if o.CreditTerm > 0 {
			pay += fmt.Sprintf(", срок кредита: %d мес.", o.CreditTerm)
		}
		b.WriteString("\n" + pay + "\n")
	}
	if noContact != "" {
		b.WriteString("\nКонтакт не привязан: " + noContact + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// changeNote is the note reconcile writes when an order's fate changed at
// Kaspi: the status change (with the cancellation reason) and/or the new
// total after a partial cancellation, under changeHead. Empty when there is
// nothing to say.
func changeNote(oldStatus, oldState string, o *domain.Order, statusChanged bool, oldTotal int64, totalChanged bool) string {
	var lines []string
	if statusChanged {
		if isReturn(o.Status) && !isReturn(oldStatus) {
			lines = append(lines, "Kaspi: возврат заказа")
		}
		lines = append(lines, fmt.Sprintf("Kaspi: статус изменён с %s на %s", statusLabel(oldStatus, oldState), statusLabel(o.Status, o.State)))
		if o.CancellationReason != "" {
			lines = append(lines, "Причина отмены: "+cancellationReasonText(o.CancellationReason))
		}
	}
	if totalChanged {
		lines = append(lines, fmt.Sprintf("Kaspi: сумма заказа изменена с %s на %s", money(float64(oldTotal)), money(o.TotalPrice)))
	}
	if len(lines) == 0 {
		return ""
	}
	return changeHead(o.Code) + "\n" + strings.Join(lines, "\n")
}

// noteHead is the first words of every note about one order. The order
// note's first line is exactly this (skipWrittenNotes looks for it followed
// by a line break); a note about a later change goes on with changeHead.
func noteHead(code string) string { return "Заказ Kaspi № " + code }

// changeHead is the first line of a note about a change of an order whose
// deal is already in amoCRM: a change note or the note of a Kaspi action.
func changeHead(code string) string { return noteHead(code) + " — изменения" }

// noContactReason explains, for the note, why an order's deal has no contact.
func noContactReason(raw string) string {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "Kaspi не передал телефон покупателя"
	case strings.Trim(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, raw), "0") == "":
		return "Kaspi скрыл телефон покупателя (" + raw + ")"
	}
	return "телефон покупателя «" + raw + "» не распознан"
}

// isReturn reports whether a Kaspi status is a step of a return.
func isReturn(status string) bool {
	switch status {
	case domain.StatusKaspiDeliveryReturnRequested, domain.StatusReturnAcceptedByMerchant, domain.StatusReturned:
		return true
	}
	return false
}

// noSKUName names a line that came without the merchant's code.
func noSKUName(l domain.Line) string {
	if name := strings.TrimSpace(l.Name); name != "" {
		return name
	}
	return fmt.Sprintf("позиция № %d (%s шт. × %s)", l.EntryNumber, quantity(l.Quantity), money(l.BasePrice))
}
