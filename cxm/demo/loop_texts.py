"""What agents and customers say in detractor follow-ups, and the notes agents leave on closing."""
# ruff: noqa: RUF001  (Russian text is Cyrillic on purpose; look-alike letters are not a spoof here)

from __future__ import annotations

from surveys.models import FollowUpOutcome

AGENT: dict[str, list[str]] = {
    "en": [
        "Hi {name}, I'm {agent} from Acme. I saw your survey answer and I'm sorry we let you down. "
        "Could you tell me a bit more about what went wrong? I'd like to put it right.",
        "Hello {name}, thank you for your honest feedback. I've looked into your case and I'd like to "
        "make it up to you. Is now a good time to talk it through?",
    ],
    "pl": [
        "Dzień dobry, tu {agent} z Acme. Widzimy Twoją ocenę w ankiecie i bardzo nam przykro. "
        "Czy możesz napisać, co poszło nie tak? Chcemy to naprawić.",
        "Dzień dobry, dziękujemy za szczerą opinię. Sprawdziliśmy Twoją sprawę i chcemy to "
        "wynagrodzić. Czy możemy porozmawiać?",
    ],
    "ru": [
        "Здравствуйте, {name}! Это {agent} из Acme. Мы увидели вашу оценку в опросе, нам очень жаль. "
        "Расскажите, пожалуйста, что пошло не так? Мы хотим это исправить.",
        "Здравствуйте, {name}! Спасибо за честный отзыв. Мы разобрались в вашей ситуации и хотим "
        "загладить неудобства. Удобно ли сейчас обсудить?",
    ],
}
CUSTOMER: dict[str, list[str]] = {
    "en": [
        "Thanks for getting back to me. The main problem was waiting so long for an answer.",
        "Appreciate it. The refund finally arrived, but it took far too long.",
    ],
    "pl": [
        "Dziękuję za kontakt. Najbardziej przeszkadzało mi długie czekanie na odpowiedź.",
        "Doceniam. Zwrot w końcu dotarł, ale trwało to zdecydowanie za długo.",
    ],
    "ru": [
        "Спасибо, что связались. Больше всего расстроило долгое ожидание ответа.",
        "Спасибо. Деньги в итоге вернули, но это заняло слишком много времени.",
    ],
}
NOTES: dict[str, dict[str, str]] = {
    "en": {
        FollowUpOutcome.RESOLVED: "Called the customer, apologised and sent a 10% voucher. Happy now.",
        FollowUpOutcome.UNRESOLVED: "Talked it through; the courier issue is still open on their side.",
        FollowUpOutcome.UNREACHABLE: "Two attempts, no answer.",
        FollowUpOutcome.NO_ACTION: "Already sorted in the original conversation.",
    },
    "pl": {
        FollowUpOutcome.RESOLVED: "Rozmowa z klientem, przeprosiny i kupon 10%. Sprawa zamknięta.",
        FollowUpOutcome.UNRESOLVED: "Omówione; problem z kurierem nadal po ich stronie.",
        FollowUpOutcome.UNREACHABLE: "Dwie próby kontaktu, bez odpowiedzi.",
        FollowUpOutcome.NO_ACTION: "Załatwione już w pierwotnej rozmowie.",
    },
    "ru": {
        FollowUpOutcome.RESOLVED: "Связались с клиентом, извинились и отправили купон на 10%. Доволен.",
        FollowUpOutcome.UNRESOLVED: "Обсудили; проблема с курьерской службой пока не решена.",
        FollowUpOutcome.UNREACHABLE: "Две попытки связаться, ответа нет.",
        FollowUpOutcome.NO_ACTION: "Вопрос уже решён в исходном обращении.",
    },
}
