package amofake

// Ids of the default fixture. They are fixed so that tests and the demo can
// name them without asking the fake.
const (
	AccountID int64 = 31000000
	UserID    int64 = 9876543 // the one user of the account ("Менеджер")

	PipelineID          int64 = 7001234 // main pipeline "Kaspi"
	StatusUnsorted      int64 = 61234560
	StatusNewOrder      int64 = 61234561
	StatusConfirmed     int64 = 61234562
	StatusInDelivery    int64 = 61234563
	StatusWon           int64 = 142
	StatusLost          int64 = 143
	OtherPipelineID     int64 = 7001235 // second pipeline "Розница"
	OtherStatusUnsorted int64 = 61234570
	OtherStatusFirst    int64 = 61234571
	LossReasonID        int64 = 4203748

	LeadOrderCodeFieldID     int64 = 912345 // text
	LeadAddressFieldID       int64 = 912346 // textarea
	LeadOrderDateFieldID     int64 = 912347 // date
	LeadOrderDateTimeFieldID int64 = 912348 // date_time
	LeadSourceFieldID        int64 = 912350 // select (enums below)
	LeadSourceKaspiEnumID    int64 = 612001
	LeadSourceOtherEnumID    int64 = 612002

	ContactPhoneFieldID    int64 = 271001 // multitext, code PHONE
	ContactEmailFieldID    int64 = 271003 // multitext, code EMAIL
	ContactPositionFieldID int64 = 271004 // text, code POSITION
	ContactAddressFieldID  int64 = 271005 // textarea

	CatalogID          int64 = 10123 // products catalog "Товары"
	SKUFieldID         int64 = 271207
	PriceFieldID       int64 = 271211
	DescriptionFieldID int64 = 271213
	ExternalIDFieldID  int64 = 271215
	RegularCatalogID   int64 = 10124 // a regular list without SKU/PRICE
)

// Fixture names the seeded ids (the same as the constants).
type Fixture struct {
	AccountID, UserID                          int64
	PipelineID, StatusNewOrder, StatusUnsorted int64
	Statuses                                   map[string]int64 // status name -> id in PipelineID
	OtherPipelineID, OtherStatusFirst          int64
	LeadOrderCodeFieldID                       int64
	LeadAddressFieldID                         int64
	LeadOrderDateFieldID                       int64
	LeadOrderDateTimeFieldID                   int64
	ContactPhoneFieldID                        int64
	ContactAddressFieldID                      int64
	CatalogID, SKUFieldID, PriceFieldID        int64
}

// Fixture returns the ids of the default fixture.
func (s *Server) Fixture() Fixture {
	return Fixture{
		AccountID: AccountID, UserID: UserID,
		PipelineID: PipelineID, StatusNewOrder: StatusNewOrder, StatusUnsorted: StatusUnsorted,
		Statuses: map[string]int64{
			"Неразобранное": StatusUnsorted, "Новый заказ": StatusNewOrder,
			"Подтверждён": StatusConfirmed, "Передан в доставку": StatusInDelivery,
			"Успешно реализовано": StatusWon, "Закрыто и не реализовано": StatusLost,
		},
		OtherPipelineID: OtherPipelineID, OtherStatusFirst: OtherStatusFirst,
		LeadOrderCodeFieldID: LeadOrderCodeFieldID, LeadAddressFieldID: LeadAddressFieldID,
		LeadOrderDateFieldID: LeadOrderDateFieldID, LeadOrderDateTimeFieldID: LeadOrderDateTimeFieldID,
		ContactPhoneFieldID: ContactPhoneFieldID, ContactAddressFieldID: ContactAddressFieldID,
		CatalogID: CatalogID, SKUFieldID: SKUFieldID, PriceFieldID: PriceFieldID,
	}
}

type enumDef struct {
	ID    int64  `json:"id"`
	Value string `json:"value"`
	Sort  int    `json:"sort"`
	Code  string `json:"code,omitempty"`
}

type fieldDef struct {
	ID         int64
	Name       string
	Code       string
	Type       string
	Sort       int
	Enums      []enumDef
	EntityType string // leads, contacts, catalogs
	CatalogID  int64
	Predefined bool
}

type statusDef struct {
	ID    int64
	Name  string
	Sort  int
	Type  int // 1 = unsorted (incoming)
	Color string
}

type pipelineDef struct {
	ID       int64
	Name     string
	Sort     int
	IsMain   bool
	Statuses []statusDef
}

type catalogDef struct {
	ID   int64
	Name string
	Type string
	Sort int
}

type userDef struct {
	ID    int64
	Name  string
	Email string
}

func systemStatuses() []statusDef {
	return []statusDef{
		{ID: StatusWon, Name: "Успешно реализовано", Sort: 10000, Color: "#CCFF66"},
		{ID: StatusLost, Name: "Закрыто и не реализовано", Sort: 11000, Color: "#D5D8DB"},
	}
}

// seed fills the default fixture.
func (s *Server) seed() {
	s.users = []userDef{{ID: UserID, Name: "Менеджер", Email: "manager@example.kz"}}
	s.pipelines = []pipelineDef{
		{ID: PipelineID, Name: "Kaspi", Sort: 1, IsMain: true, Statuses: append([]statusDef{
			{ID: StatusUnsorted, Name: "Неразобранное", Sort: 10, Type: 1, Color: "#c1c1c1"},
			{ID: StatusNewOrder, Name: "Новый заказ", Sort: 20, Color: "#99ccff"},
			{ID: StatusConfirmed, Name: "Подтверждён", Sort: 30, Color: "#ffff99"},
			{ID: StatusInDelivery, Name: "Передан в доставку", Sort: 40, Color: "#ffcc66"},
		}, systemStatuses()...)},
		{ID: OtherPipelineID, Name: "Розница", Sort: 2, Statuses: append([]statusDef{
			{ID: OtherStatusUnsorted, Name: "Неразобранное", Sort: 10, Type: 1, Color: "#c1c1c1"},
			{ID: OtherStatusFirst, Name: "Первичный контакт", Sort: 20, Color: "#99ccff"},
		}, systemStatuses()...)},
	}
	s.lossReasons = map[int64]string{LossReasonID: "Отменён покупателем"}
	s.catalogs = []catalogDef{
		{ID: CatalogID, Name: "Товары", Type: "products", Sort: 10},
		{ID: RegularCatalogID, Name: "Поставщики", Type: "regular", Sort: 20},
	}
	s.fields = map[string][]*fieldDef{
		"leads": {
			{ID: LeadOrderCodeFieldID, Name: "Номер заказа Kaspi", Type: "text", Sort: 510},
			{ID: LeadAddressFieldID, Name: "Адрес доставки", Type: "textarea", Sort: 511},
			{ID: LeadOrderDateFieldID, Name: "Дата заказа", Type: "date", Sort: 512},
			{ID: LeadOrderDateTimeFieldID, Name: "Дата и время заказа", Type: "date_time", Sort: 513},
			{ID: LeadSourceFieldID, Name: "Источник", Type: "select", Sort: 514, Enums: []enumDef{
				{ID: LeadSourceKaspiEnumID, Value: "Kaspi", Sort: 1},
				{ID: LeadSourceOtherEnumID, Value: "Другое", Sort: 2},
			}},
		},
		"contacts": {
			{ID: ContactPhoneFieldID, Name: "Телефон", Code: "PHONE", Type: "multitext", Sort: 4, Predefined: true, Enums: []enumDef{
				{ID: 512000, Value: "WORK", Sort: 2}, {ID: 512002, Value: "WORKDD", Sort: 4},
				{ID: 512001, Value: "MOB", Sort: 6}, {ID: 512003, Value: "FAX", Sort: 8},
				{ID: 512004, Value: "HOME", Sort: 10}, {ID: 512005, Value: "OTHER", Sort: 12},
			}},
			{ID: ContactEmailFieldID, Name: "Email", Code: "EMAIL", Type: "multitext", Sort: 6, Predefined: true, Enums: []enumDef{
				{ID: 512010, Value: "WORK", Sort: 2}, {ID: 512011, Value: "PRIV", Sort: 4},
				{ID: 512012, Value: "OTHER", Sort: 6},
			}},
			{ID: ContactPositionFieldID, Name: "Должность", Code: "POSITION", Type: "text", Sort: 2, Predefined: true},
			{ID: ContactAddressFieldID, Name: "Адрес", Type: "textarea", Sort: 510},
		},
		catalogKey(CatalogID): {
			{ID: SKUFieldID, Name: "Артикул", Code: "SKU", Type: "text", Sort: 1, Predefined: true, CatalogID: CatalogID},
			{ID: PriceFieldID, Name: "Цена", Code: "PRICE", Type: "price", Sort: 2, Predefined: true, CatalogID: CatalogID},
			{ID: DescriptionFieldID, Name: "Описание", Code: "DESCRIPTION", Type: "textarea", Sort: 3, Predefined: true, CatalogID: CatalogID},
			{ID: ExternalIDFieldID, Name: "External ID", Code: "EXTERNAL_ID", Type: "text", Sort: 4, Predefined: true, CatalogID: CatalogID},
		},
		catalogKey(RegularCatalogID): {
			{ID: 271301, Name: "Контакт поставщика", Type: "text", Sort: 1, CatalogID: RegularCatalogID},
		},
	}
	for key, defs := range s.fields {
		for _, d := range defs {
			d.EntityType = key
			if d.CatalogID != 0 {
				d.EntityType = "catalogs"
			}
		}
	}
}
