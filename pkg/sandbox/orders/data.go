package orders

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// Buyers are Kazakh or Russian; surnames agree with the first name's gender.
var (
	kazakhMale     = []string{"Данияр", "Ерлан", "Нурлан", "Асхат", "Бауыржан", "Айдос", "Ержан", "Тимур", "Арман", "Дастан", "Мирас", "Қайрат", "Ғалым"}
	kazakhFemale   = []string{"Айгерим", "Динара", "Жанар", "Сауле", "Гульмира", "Асель", "Мадина", "Аружан", "Әсем", "Жұлдыз", "Айнұр", "Назерке"}
	kazakhSurnames = []string{"Ахметов", "Сапаров", "Жумабаев", "Касымов", "Нурланов", "Сейткали", "Абенов", "Тулегенов", "Омаров", "Искаков", "Бекмаганбетов", "Оспанов"}
	russianMale    = []string{"Александр", "Дмитрий", "Сергей", "Андрей", "Максим", "Игорь", "Владимир", "Евгений"}
	russianFemale  = []string{"Елена", "Ольга", "Наталья", "Татьяна", "Анна", "Екатерина", "Ирина", "Светлана"}
	russianSurname = []string{"Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Морозов", "Волков", "Лебедев"}
)

// name returns a first and last name, Kazakh about two times in three.
func name(r *rand.Rand) (first, last string) {
	female := r.IntN(2) == 0
	if r.IntN(3) < 2 {
		last = kazakhSurnames[r.IntN(len(kazakhSurnames))]
		if female {
			first = kazakhFemale[r.IntN(len(kazakhFemale))]
		} else {
			first = kazakhMale[r.IntN(len(kazakhMale))]
		}
	} else {
		last = russianSurname[r.IntN(len(russianSurname))]
		if female {
			first = russianFemale[r.IntN(len(russianFemale))]
		} else {
			first = russianMale[r.IntN(len(russianMale))]
		}
	}
	// Surnames in -ов/-ев/-ин take -а for women; others (Сейткали) do not change.
	if female && (strings.HasSuffix(last, "ов") || strings.HasSuffix(last, "ев") || strings.HasSuffix(last, "ин")) {
		last += "а"
	}
	return first, last
}

// goods are the kinds of products in the catalogue.
var goods = []struct {
	sku, name          string
	brands, variants   []string
	minPrice, maxPrice float64
}{
	{"PAN", "Сковорода", []string{"Tefal", "Kukmara", "Rondell"}, []string{"24 см", "26 см", "28 см"}, 5000, 30000},
	{"KTL", "Чайник электрический", []string{"Polaris", "Bosch", "Xiaomi"}, []string{"1.7 л", "белый", "стальной"}, 8000, 35000},
	{"PHN", "Смартфон", []string{"Samsung Galaxy A15", "Xiaomi Redmi 13", "Apple iPhone 15"}, []string{"128 ГБ", "256 ГБ", "черный"}, 70000, 600000},
	{"HDP", "Наушники", []string{"JBL Tune 520BT", "Sony WH-CH520", "Apple AirPods 3"}, []string{"черный", "белый", "синий"}, 15000, 120000},
	{"DSP", "Подгузники", []string{"Pampers", "Huggies", "Merries"}, []string{"размер 3, 90 шт", "размер 4, 76 шт", "размер 5, 64 шт"}, 9000, 22000},
	{"TEA", "Чай черный", []string{"Пиала", "Ahmad Tea", "Greenfield"}, []string{"250 г", "100 пакетиков", "500 г"}, 1500, 6000},
	{"BLN", "Блендер", []string{"Philips", "Moulinex", "Redmond"}, []string{"600 Вт", "1000 Вт", "с чашей"}, 12000, 60000},
	{"SHM", "Шампунь", []string{"Head & Shoulders", "Pantene", "Elseve"}, []string{"400 мл", "600 мл", "2 в 1"}, 1500, 7000},
	{"VAC", "Пылесос", []string{"Dyson V12", "Samsung Jet", "Xiaomi Mi Vacuum"}, []string{"беспроводной", "с мешком", "моющий"}, 40000, 400000},
	{"TYR", "Шина зимняя", []string{"Nokian Hakkapeliitta", "Michelin X-Ice", "Kumho WinterCraft"}, []string{"R16 205/55", "R17 225/65", "R15 195/65"}, 30000, 90000},
}

// cities are towns with streets; the first one or two carry most orders.
var cities = []struct {
	town    string
	streets []string
}{
	{"Алматы", []string{"проспект Абая", "улица Толе би", "проспект Назарбаева", "улица Жандосова", "микрорайон Самал-2", "улица Розыбакиева"}},
	{"Астана", []string{"улица Кабанбай батыра", "проспект Мангилик Ел", "улица Сыганак", "проспект Республики"}},
	{"Шымкент", []string{"проспект Тауке хана", "улица Байтурсынова", "микрорайон Нурсат"}},
	{"Караганда", []string{"проспект Бухар-Жырау", "улица Ерубаева"}},
	{"Актобе", []string{"проспект Абилкайыр хана", "улица Маресьева"}},
}

// pickAddress returns a delivery address; regional ones avoid Алматы (the
// shop's own city in the samples).
func pickAddress(r *rand.Rand, regional bool) domain.Address {
	ci := 0
	if regional {
		ci = 1 + r.IntN(len(cities)-1)
	} else if r.IntN(4) == 0 {
		ci = 1
	}
	c := cities[ci]
	a := domain.Address{
		Town:         c.town,
		StreetName:   c.streets[r.IntN(len(c.streets))],
		StreetNumber: strconv.Itoa(1 + r.IntN(250)),
	}
	if r.IntN(3) > 0 {
		a.Apartment = strconv.Itoa(1 + r.IntN(180))
	}
	if r.IntN(5) == 0 {
		a.Building = strconv.Itoa(1 + r.IntN(4))
	}
	a.Formatted = fmt.Sprintf("%s, %s, %s", a.Town, a.StreetName, a.StreetNumber)
	if a.Building != "" {
		a.Formatted += ", корп. " + a.Building
	}
	if a.Apartment != "" {
		a.Formatted += ", кв. " + a.Apartment
	}
	return a
}
