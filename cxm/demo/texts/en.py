from __future__ import annotations

from cxm.demo.texts.base import Common, Script

TOPICS: dict[str, Script] = {
    "order_status": Script(
        subject="Where is my order #{order}?",
        opening=[
            'Hi, I placed order #{order} last week and it still shows as "processing". When will it ship?',
            "Hello! Could you check the status of order #{order}? I haven't had a shipping email yet.",
        ],
        reply=[
            "Hi {name}, thanks for reaching out! Order #{order} left our warehouse this morning; "
            "you'll get a tracking link by email within a few hours.",
            "Hi {name}, order #{order} is packed and goes to the courier today. Sorry for the wait!",
        ],
        follow_up=[
            "Great, and roughly when should it arrive?",
            "I still don't see the tracking email. Could you paste the link here?",
        ],
        update=[
            "Delivery usually takes 2-3 business days, so it should be with you by Friday.",
            "Here's the tracking number: {tracking}. It should update this evening.",
        ],
    ),
    "delivery_delay": Script(
        subject="Delivery is late (order #{order})",
        opening=[
            "My order #{order} was supposed to arrive on Monday and it's still not here. What's going on?",
            'The courier page has said "in transit" for four days now. Order #{order}. Can you help?',
        ],
        reply=[
            "I'm sorry about the delay, {name}. The courier has a backlog in your area; we've opened a "
            "claim with them and will update you within 24 hours.",
            "Apologies, {name}! The parcel got stuck at the sorting hub. We've asked the courier to "
            "prioritise it.",
        ],
        follow_up=[
            "It's a birthday present, so I really need it by Saturday.",
            "OK, thanks. Will I get a refund for the express shipping?",
        ],
        update=[
            "Good news: the parcel is back on track and out for delivery tomorrow.",
            "We've refunded the shipping fee of {amount}; you'll see it on your statement in 3-5 days.",
        ],
    ),
    "refund": Script(
        subject="Refund for order #{order}",
        opening=[
            "I returned order #{order} two weeks ago but haven't received my refund of {amount} yet.",
            "Hi, I'd like to return order #{order}, the size doesn't fit. How do I get a refund?",
        ],
        reply=[
            "Hi {name}, the return has arrived at our warehouse and we've issued the refund of {amount}. "
            "Banks usually take 3-5 business days.",
            "Hi {name}, no problem! We've emailed you a prepaid return label. As soon as the parcel "
            "reaches us, we'll refund {amount}.",
        ],
        follow_up=[
            "Which card will the money go back to?",
            "It's been five days and I still don't see it on my account.",
        ],
        update=[
            "The refund goes back to the card you paid with, ending in {card}.",
            "Our payments team confirms the refund left on our side. Reference for your bank: RF-{order}.",
        ],
    ),
    "login": Script(
        subject="Can't log in to my account",
        opening=[
            "I can't log in: it says my password is wrong, and the reset email never arrives.",
            "Your app keeps logging me out and now I'm locked out after too many attempts.",
        ],
        reply=[
            "Sorry for the trouble, {name}! We've unlocked your account and sent a fresh reset link. "
            "It's valid for one hour.",
            "Hi {name}, the lock lifts by itself after 15 minutes, but we've cleared it for you now. "
            "Could you try again?",
        ],
        follow_up=[
            "Still nothing in my inbox, not even in spam.",
            'That worked on the website, but the mobile app still says "session expired".',
        ],
        update=[
            "Please update the app to the latest version and sign in again; we fixed that bug last week.",
            "We've sent the link again from another address. Look for an email from no-reply@acme.example.",
        ],
    ),
    "invoice": Script(
        subject="Invoice for order #{order}",
        opening=[
            "Could you send me an invoice for order #{order}? I need our company details on it.",
            "Invoice {invoice} has the wrong company address. Can you issue a corrected one?",
        ],
        reply=[
            "Of course, {name}! Invoice {invoice} is attached; you can also download it any time "
            "under Account → Billing.",
            "Hi {name}, we've issued a corrected invoice {invoice} with the new address and cancelled the "
            "old one.",
        ],
        follow_up=[
            "Thanks. Can you add our VAT number as well?",
            "Could you also send a copy to our accounts department?",
        ],
        update=[
            "Done: the VAT number is on the updated invoice.",
            "Sure, a copy is on its way to them now.",
        ],
    ),
    "damaged": Script(
        subject="Item arrived damaged",
        opening=[
            "The mug from order #{order} arrived broken; the box was crushed. Photos attached.",
            "One of the items in order #{order} is damaged and the other one is missing.",
        ],
        reply=[
            "I'm so sorry, {name}! A free replacement ships tomorrow. No need to send the broken one back.",
            "Sorry about that, {name}. Could you send a photo of the packaging and the label? Then we can "
            "open a claim with the courier.",
        ],
        follow_up=[
            "Here are the photos of the box and the label.",
            "Can I get a refund instead of a replacement?",
        ],
        update=[
            "Thanks, that's all we need. The replacement is already packed.",
            "Of course, we've refunded {amount} to your original payment method.",
        ],
    ),
    "change_address": Script(
        subject="Change delivery address for #{order}",
        opening=[
            "I just realised I entered my old address for order #{order}. Can you change it before it ships?",
            "Can order #{order} go to my office instead? I'm not home during the day.",
        ],
        reply=[
            "No problem, {name}, the order hasn't shipped yet. What's the new address?",
            "Sure, {name}! Please send the full address and a phone number for the courier.",
        ],
        follow_up=["It's 24 Elm Street, Apt 5, same city.", "Please deliver after 5 pm if possible."],
        update=[
            "Updated! The courier will deliver to the new address.",
            "We've added a note for the courier about evening delivery.",
        ],
    ),
    "payment_failed": Script(
        subject="Payment declined",
        opening=[
            "My card keeps getting declined at checkout, but it works everywhere else.",
            "I was charged {amount} twice for order #{order}!",
        ],
        reply=[
            "Sorry about that, {name}. Our payment provider flagged the attempt; we've cleared it, so "
            "please try once more.",
            "I'm sorry, {name}, we can see the duplicate charge. The second payment of {amount} has been "
            "voided and will disappear within a few days.",
        ],
        follow_up=[
            "Still declined. Is there another way to pay?",
            "My bank says it's still pending. When will it be released?",
        ],
        update=[
            "You can also pay by bank transfer or PayPal; we've sent you a payment link.",
            "Pending holds usually drop off within 5 business days. If not, reply here and we'll chase it.",
        ],
    ),
    "cancel_subscription": Script(
        subject="Cancel my subscription",
        opening=[
            "Please cancel my subscription, I'm not using it anymore.",
            "How do I switch from the monthly plan to the yearly one?",
        ],
        reply=[
            "Done, {name}: your subscription is cancelled and you won't be charged again. You keep "
            "access until the end of the billing period.",
            "Hi {name}, you can switch under Account → Plan; the unused part of this month is credited "
            "automatically.",
        ],
        follow_up=["Will I lose my saved data?", "Is there a discount for paying yearly?"],
        update=[
            "Your data is kept for 90 days, so you can come back any time.",
            "Yes, the yearly plan costs two months less than paying monthly.",
        ],
    ),
}

COMMON = Common(
    nudge=[
        "Any update on this?",
        "Hello? Is anyone there?",
        "Just following up, still waiting for an answer.",
    ],
    follow_up=["OK, thanks for checking.", "Sure, one moment.", "Understood. How long will that take?"],
    update=[
        "Thanks for your patience, we're checking this with the team now.",
        "We've passed this to the right team and will get back to you by tomorrow.",
        "Could you confirm the email address on your account?",
    ],
    thanks=[
        "Perfect, thank you so much!",
        "That's sorted, thanks for the quick help.",
        "Great, all good now. Thanks!",
    ],
    close=[
        "Glad we could help, {name}! Have a great day.\n— {agent}",
        "You're welcome! I'll close this conversation now; just reply if anything else comes up.\n— {agent}",
        "Happy to help. Take care!\n— {agent}",
    ],
    chat_closed="The chat closed on me, so I'm writing here. ",
)
