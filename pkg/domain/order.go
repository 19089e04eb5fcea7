package domain

// Kaspi order states (filterable in GET /orders).
const (
	StateNew           = "NEW"
	StateSignRequired  = "SIGN_REQUIRED"
	StatePickup        = "PICKUP"
	StateDelivery      = "DELIVERY"
	StateKaspiDelivery = "KASPI_DELIVERY"
	StateArchive       = "ARCHIVE"
)

// AllStates lists every Kaspi state, in the order reconcile sweeps them.
var AllStates = []string{StateNew, StateSignRequired, StatePickup, StateDelivery, StateKaspiDelivery, StateArchive}

// Kaspi order statuses.
const (
	StatusApprovedByBank               = "APPROVED_BY_BANK"
	StatusAcceptedByMerchant           = "ACCEPTED_BY_MERCHANT"
	StatusCompleted                    = "COMPLETED"
	StatusCancelled                    = "CANCELLED"
	StatusCancelling                   = "CANCELLING"
	StatusKaspiDeliveryReturnRequested = "KASPI_DELIVERY_RETURN_REQUESTED"
	StatusReturnAcceptedByMerchant     = "RETURN_ACCEPTED_BY_MERCHANT"
	StatusReturned                     = "RETURNED"
)

// AllStatuses lists every Kaspi status.
var AllStatuses = []string{
	StatusApprovedByBank, StatusAcceptedByMerchant, StatusCompleted, StatusCancelled,
	StatusCancelling, StatusKaspiDeliveryReturnRequested, StatusReturnAcceptedByMerchant, StatusReturned,
}

// IsFinalStatus reports whether a Kaspi status can no longer change.
func IsFinalStatus(status string) bool {
	switch status {
	case StatusCompleted, StatusCancelled, StatusReturned:
		return true
	}
	return false
}

// Order is one Kaspi order as the sync needs it. Fields Kaspi may omit are
// zero values; Address is nil for pickup orders.
type Order struct {
	ID                 string  `json:"id"`   // opaque API id, used in /orders/{id}/entries
	Code               string  `json:"code"` // human order number, the de-duplication key
	State              string  `json:"state"`
	Status             string  `json:"status"`
	CreationMs         int64   `json:"creationMs"`
	TotalPrice         float64 `json:"totalPrice"` // KZT, goods only
	PaymentMode        string  `json:"paymentMode,omitempty"`
	CreditTerm         int     `json:"creditTerm,omitempty"`
	PlannedDeliveryMs  int64   `json:"plannedDeliveryMs,omitempty"`
	DeliveryMode       string  `json:"deliveryMode,omitempty"`
	IsKaspiDelivery    bool    `json:"isKaspiDelivery,omitempty"`
	DeliveryCost       float64 `json:"deliveryCost,omitempty"`
	PickupPointID      string  `json:"pickupPointId,omitempty"`
	Assembled          bool    `json:"assembled,omitempty"` // Kaspi Delivery: ASSEMBLE was accepted
	Waybill            string  `json:"waybill,omitempty"`
	WaybillNumber      string  `json:"waybillNumber,omitempty"`
	CancellationReason string  `json:"cancellationReason,omitempty"`
	PreOrder           bool    `json:"preOrder,omitempty"`

	Customer Customer `json:"customer"`
	Address  *Address `json:"address,omitempty"`

	// Lines are the order entries. LinesLoaded tells an order without
	// lines apart from one whose lines were not fetched.
	Lines       []Line `json:"lines,omitempty"`
	LinesLoaded bool   `json:"linesLoaded,omitempty"`

	// Rejected, when set, says why the order cannot be imported (an id or
	// code of the wrong shape or length, an overlong state): the sync sets
	// it aside with this reason and never stores its fields.
	Rejected string `json:"-"`

	// StoreNo is the Kaspi store that listed the order (1 … 9; 0 is store
	// 1). The sync sets it; Kaspi does not send it.
	StoreNo int `json:"storeNo,omitempty"`
}

// Customer is the buyer. Phone is the raw customer.cellPhone value (10 digits
// when usable, masked as "+0(000)-000-00-00" on some orders).
type Customer struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// Address is a delivery address.
type Address struct {
	Formatted    string `json:"formatted,omitempty"`
	StreetName   string `json:"streetName,omitempty"`
	StreetNumber string `json:"streetNumber,omitempty"`
	Town         string `json:"town,omitempty"`
	District     string `json:"district,omitempty"`
	Building     string `json:"building,omitempty"`
	Apartment    string `json:"apartment,omitempty"`
}

// Line is one order entry. SKU is offer.code (the merchant's own article),
// Name is offer.name.
type Line struct {
	EntryID     string  `json:"entryId,omitempty"`
	EntryNumber int     `json:"entryNumber"`
	SKU         string  `json:"sku"`
	Name        string  `json:"name"`
	Quantity    float64 `json:"quantity"`
	BasePrice   float64 `json:"basePrice"`
	TotalPrice  float64 `json:"totalPrice"`
	UnitType    string  `json:"unitType,omitempty"`
	// ProductID is the Kaspi master product of the line (opaque). Its
	// code is Kaspi's, never the shop's SKU.
	ProductID string `json:"productId,omitempty"`
}
