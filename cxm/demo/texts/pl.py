from __future__ import annotations

from cxm.demo.texts.base import Common, Script

# Polish greetings would need the vocative ("Katarzyno"), so agent lines do not address by name.
TOPICS: dict[str, Script] = {
    "order_status": Script(
        subject="Gdzie jest moje zamówienie nr {order}?",
        opening=[
            "Dzień dobry, zamówienie nr {order} złożone w zeszłym tygodniu nadal ma status "
            "„w realizacji”. Kiedy zostanie wysłane?",
            "Cześć! Możecie sprawdzić status zamówienia nr {order}? Nie przyszedł jeszcze mail o wysyłce.",
        ],
        reply=[
            "Dzień dobry, dziękujemy za wiadomość! Zamówienie nr {order} wyjechało dziś rano z magazynu, "
            "link do śledzenia przesyłki przyjdzie mailem w ciągu kilku godzin.",
            "Cześć! Zamówienie nr {order} jest już spakowane i jeszcze dziś trafi do kuriera. "
            "Przepraszamy za zwłokę!",
        ],
        follow_up=[
            "Super, a kiedy mniej więcej dotrze?",
            "Nadal nie widzę maila z numerem przesyłki. Możecie wkleić link tutaj?",
        ],
        update=[
            "Dostawa trwa zwykle 1-2 dni robocze, więc paczka powinna dotrzeć najpóźniej w piątek.",
            "Numer przesyłki: {tracking}. Status powinien się zaktualizować wieczorem.",
        ],
    ),
    "delivery_delay": Script(
        subject="Opóźniona dostawa (zamówienie nr {order})",
        opening=[
            "Zamówienie nr {order} miało przyjść w poniedziałek, a nadal go nie ma. Co się dzieje?",
            "Od czterech dni przesyłka ma status „w drodze”. Zamówienie nr {order}. Pomożecie?",
        ],
        reply=[
            "Bardzo przepraszamy za opóźnienie. Kurier ma zaległości w Państwa rejonie; zgłosiliśmy "
            "reklamację i wrócimy z informacją w ciągu 24 godzin.",
            "Przepraszamy! Paczka utknęła w sortowni. Poprosiliśmy kuriera o priorytetowe doręczenie.",
        ],
        follow_up=[
            "To prezent urodzinowy, potrzebuję go najpóźniej w sobotę.",
            "Dobrze, dziękuję. Czy dostanę zwrot za ekspresową wysyłkę?",
        ],
        update=[
            "Dobra wiadomość: paczka jest już w doręczeniu i powinna dotrzeć jutro.",
            "Zwróciliśmy koszt wysyłki, {amount}. Środki pojawią się na koncie w ciągu 3-5 dni.",
        ],
    ),
    "refund": Script(
        subject="Zwrot pieniędzy za zamówienie nr {order}",
        opening=[
            "Zamówienie nr {order} zostało odesłane dwa tygodnie temu, a zwrotu {amount} nadal nie ma "
            "na koncie.",
            "Dzień dobry, chcę zwrócić zamówienie nr {order}, rozmiar nie pasuje. Jak otrzymać zwrot?",
        ],
        reply=[
            "Dzień dobry, zwrot dotarł już do naszego magazynu. Zleciliśmy przelew {amount}; bank zwykle "
            "księguje go w ciągu 3-5 dni roboczych.",
            "Dzień dobry, oczywiście! Wysłaliśmy mailem etykietę zwrotną. Gdy tylko paczka do nas dotrze, "
            "zwrócimy {amount}.",
        ],
        follow_up=[
            "Na którą kartę wrócą pieniądze?",
            "Minęło już pięć dni, a na koncie nadal nic nie widzę.",
        ],
        update=[
            "Środki wrócą na kartę użytą do płatności, kończącą się na {card}.",
            "Dział płatności potwierdza, że przelew wyszedł od nas. "
            "Numer referencyjny dla banku: RF-{order}.",
        ],
    ),
    "login": Script(
        subject="Nie mogę zalogować się do konta",
        opening=[
            "Nie mogę się zalogować: pojawia się komunikat o błędnym haśle, a mail do resetu w ogóle "
            "nie przychodzi.",
            "Aplikacja ciągle mnie wylogowuje, a teraz konto jest zablokowane po zbyt wielu próbach.",
        ],
        reply=[
            "Przepraszamy za kłopot! Odblokowaliśmy konto i wysłaliśmy nowy link do zmiany hasła. "
            "Jest ważny przez godzinę.",
            "Dzień dobry, blokada znika automatycznie po 15 minutach, ale już ją zdjęliśmy. "
            "Prosimy spróbować ponownie.",
        ],
        follow_up=[
            "Nadal nic nie przyszło, w spamie też nie ma.",
            "Na stronie działa, ale aplikacja mobilna dalej pokazuje „sesja wygasła”.",
        ],
        update=[
            "Prosimy zaktualizować aplikację do najnowszej wersji i zalogować się ponownie; ten błąd "
            "naprawiliśmy w zeszłym tygodniu.",
            "Wysłaliśmy link ponownie z innego adresu. Prosimy szukać maila od no-reply@acme.example.",
        ],
    ),
    "invoice": Script(
        subject="Faktura do zamówienia nr {order}",
        opening=[
            "Poproszę o fakturę VAT do zamówienia nr {order}, na firmę. Potrzebuję jej do księgowości.",
            "Na fakturze {invoice} jest błędny adres firmy. Czy możecie wystawić korektę?",
        ],
        reply=[
            "Oczywiście! W załączniku faktura {invoice}; można ją też w każdej chwili pobrać w zakładce "
            "Konto → Płatności.",
            "Dzień dobry, wystawiliśmy fakturę korygującą {invoice} z poprawnym adresem.",
        ],
        follow_up=[
            "Dziękuję. Czy można dopisać NIP firmy?",
            "Czy mogą Państwo wysłać kopię również do naszej księgowości?",
        ],
        update=[
            "Gotowe, NIP jest już na poprawionej fakturze.",
            "Jasne, kopia właśnie poszła do księgowości.",
        ],
    ),
    "damaged": Script(
        subject="Towar dotarł uszkodzony",
        opening=[
            "Kubek z zamówienia nr {order} przyszedł rozbity, karton był zgnieciony. Zdjęcia w załączniku.",
            "Jeden produkt z zamówienia nr {order} jest uszkodzony, a drugiego brakuje.",
        ],
        reply=[
            "Bardzo nam przykro! Jutro wysyłamy bezpłatnie nowy egzemplarz. Uszkodzonego nie trzeba odsyłać.",
            "Przepraszamy! Czy można prosić o zdjęcie opakowania i etykiety? Wtedy zgłosimy reklamację "
            "u kuriera.",
        ],
        follow_up=[
            "Przesyłam zdjęcia kartonu i etykiety.",
            "Czy zamiast wymiany mogę dostać zwrot pieniędzy?",
        ],
        update=[
            "Dziękujemy, to wszystko, czego potrzebujemy. Nowy egzemplarz jest już spakowany.",
            "Oczywiście, zwróciliśmy {amount} na kartę użytą do płatności.",
        ],
    ),
    "change_address": Script(
        subject="Zmiana adresu dostawy dla zamówienia nr {order}",
        opening=[
            "W zamówieniu nr {order} jest stary adres. Czy można go zmienić przed wysyłką?",
            "Czy zamówienie nr {order} może przyjść do biura zamiast do domu? W ciągu dnia nikogo nie ma.",
        ],
        reply=[
            "Nie ma problemu, zamówienie nie zostało jeszcze wysłane. Jaki jest nowy adres?",
            "Oczywiście! Prosimy o pełny adres i numer telefonu dla kuriera.",
        ],
        follow_up=["ul. Długa 12/4, to samo miasto.", "Jeśli się da, proszę o dostawę po 17:00."],
        update=[
            "Zaktualizowane! Kurier dostarczy paczkę pod nowy adres.",
            "Dodaliśmy dla kuriera notatkę o dostawie wieczorem.",
        ],
    ),
    "payment_failed": Script(
        subject="Płatność odrzucona",
        opening=[
            "Karta jest ciągle odrzucana przy płatności, a wszędzie indziej działa.",
            "Za zamówienie nr {order} pobrano {amount} dwa razy!",
        ],
        reply=[
            "Przepraszamy! Operator płatności zablokował transakcję. Już to wyjaśniliśmy, prosimy spróbować "
            "jeszcze raz.",
            "Przepraszamy, widzimy podwójne obciążenie. Druga płatność na {amount} została anulowana "
            "i zniknie z konta w ciągu kilku dni.",
        ],
        follow_up=[
            "Nadal odrzuca. Da się zapłacić inaczej?",
            "Bank twierdzi, że transakcja wciąż jest w toku. Kiedy środki zostaną odblokowane?",
        ],
        update=[
            "Można też zapłacić BLIKIEM lub przelewem; wysłaliśmy link do płatności.",
            "Blokada zwykle znika w ciągu 5 dni roboczych. Jeśli nie, prosimy odpisać, zajmiemy się tym.",
        ],
    ),
    "cancel_subscription": Script(
        subject="Rezygnacja z subskrypcji",
        opening=[
            "Proszę anulować moją subskrypcję, już z niej nie korzystam.",
            "Jak przejść z planu miesięcznego na roczny?",
        ],
        reply=[
            "Gotowe: subskrypcja anulowana, kolejnych obciążeń nie będzie. Dostęp pozostaje do końca "
            "okresu rozliczeniowego.",
            "Dzień dobry, plan można zmienić w zakładce Konto → Plan; niewykorzystana część miesiąca "
            "zostanie rozliczona automatycznie.",
        ],
        follow_up=["Czy stracę zapisane dane?", "Czy przy płatności rocznej jest rabat?"],
        update=[
            "Dane przechowujemy przez 90 dni, więc można wrócić w każdej chwili.",
            "Tak, plan roczny wychodzi o dwa miesiące taniej niż płatność miesięczna.",
        ],
    ),
}

COMMON = Common(
    nudge=[
        "Czy jest coś nowego w tej sprawie?",
        "Halo, czy ktoś tu jest?",
        "Przypominam się, nadal czekam na odpowiedź.",
    ],
    follow_up=["Dobrze, dziękuję za sprawdzenie.", "Jasne, chwileczkę.", "Rozumiem. Ile to potrwa?"],
    update=[
        "Dziękujemy za cierpliwość, sprawdzamy to z zespołem.",
        "Przekazaliśmy sprawę do właściwego działu, odezwiemy się najpóźniej jutro.",
        "Prosimy potwierdzić adres e-mail przypisany do konta.",
    ],
    thanks=[
        "Super, bardzo dziękuję!",
        "Wszystko załatwione, dzięki za szybką pomoc.",
        "Świetnie, teraz wszystko działa. Dziękuję!",
    ],
    close=[
        "Cieszymy się, że mogliśmy pomóc! Miłego dnia.\n— {agent}",
        "Nie ma za co! Zamykamy zgłoszenie; w razie pytań wystarczy odpisać.\n— {agent}",
        "Zawsze chętnie pomożemy. Pozdrawiamy!\n— {agent}",
    ],
    chat_closed="Czat się zamknął, więc piszę tutaj. ",
)
