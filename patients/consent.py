"""Informed consent for ketamine infusions: the first version's text, and how a text is shown.

The text a patient signs is a `ConsentDocument` row (patients/models.py): versions are written
and published by the medical director in admin (services.consent_publish), and never change once
published. FIRST_VERSION below is the text the migration seeded as version 2026.1; it is kept
here so the migration and the tests read one copy. Sources: the clinic's own list of risks
(blood pressure changes, irregular heart rhythm, interactions with benzodiazepines, opioids and
alcohol, seizures) and the ketamine prescribing information and literature (dissociation,
nausea and vomiting, dizziness, sedation, raised blood pressure and heart rate, off-label use).
"""

from dataclasses import dataclass

FIRST_VERSION = "2026.1"
FIRST_TITLE = "Consent to ketamine infusions at home"

FIRST_BODY = """## What this treatment is
Ketamine is a medicine approved in the United States as an anaesthetic. Giving it through a drip \
into a vein (an IV infusion) at low doses to treat depression, PTSD or anxiety is "off-label": the \
FDA has not approved it for these conditions, although studies and clinical experience support it. \
A ketamine nasal spray (esketamine) is approved for some kinds of depression; our infusions are not \
that product.

Treatment is not guaranteed to help. Some people feel better within days; some do not improve. \
You may stop at any time, and you may choose other treatments (talking therapies, other \
medicines, TMS, ECT); your clinician can talk with you about them.

## Side effects during and soon after an infusion
- Feeling detached from yourself or your surroundings, dreamlike or unreal ("dissociation"), \
changes in how things look, sound or feel, and a changed sense of time. These usually fade within \
an hour or two after the infusion ends.
- Nausea and vomiting. Please do not eat for 6 hours before an infusion.
- Dizziness, drowsiness, blurred or double vision, headache, and feeling unsteady.
- Anxiety, confusion or unpleasant experiences during the infusion.
- A rise in blood pressure and heart rate. The nurse checks them before, during and after \
every infusion and stops the infusion if they rise too far.

## Less common but serious risks
- Blood pressure changes, high or low, that may need treatment.
- An irregular heart rhythm.
- Slowed or shallow breathing, more likely with other sedating medicines or alcohol.
- Seizures (rare).
- An allergic reaction to ketamine.
- Raised pressure in the eyes or inside the skull.
- Worsening mood, or thoughts of harming yourself. Tell us at once if this happens.
- Ketamine can be misused. Using it outside treatment, or often, can harm the bladder and \
the liver and can lead to dependence.

## Medicines and alcohol
Ketamine interacts with benzodiazepines (for example lorazepam, alprazolam, clonazepam), opioids \
and alcohol: together they can slow your breathing and make you much drowsier. Stimulants and some \
antidepressants (MAOIs) can raise blood pressure further. Tell us about every medicine you take, \
and do not drink alcohol on the day before, the day of and the day after an infusion.

## Safety rules for every infusion
- An adult you trust must be with you at home during the infusion and for at least 4 hours \
afterwards.
- Do not drive, ride a bike, operate machinery or make important decisions until the next day, \
after a full night's sleep.
- The nurse may stop the infusion at any time if it is not safe to go on.
- You may ask to stop at any time.

## How to reach us
Call the clinic at {clinic_phone}, or write to the care team in your portal (messages are read \
in working hours). If you feel unwell after an infusion, call us.

In an emergency, call 911. If you are in crisis or thinking about harming yourself, call or \
text 988 (the Suicide and Crisis Lifeline), at any hour.

## Your agreement
By typing your name and ticking the box, you confirm that you have read this document, that you \
have had the chance to ask questions, and that you agree to receive ketamine infusions at home. \
You can withdraw your consent at any time by telling us.
"""


@dataclass(frozen=True)
class Block:
    kind: str  # "heading", "paragraph" or "list"
    text: str = ""
    items: tuple[str, ...] = ()


def consent_blocks(body: str) -> list[Block]:
    """The text as headings, paragraphs and lists, for a page (no HTML in the stored text)."""
    blocks: list[Block] = []
    for chunk in body.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.strip().split("\n") if line.strip()]
        while lines and lines[0].startswith("## "):
            blocks.append(Block("heading", lines.pop(0)[3:].strip()))
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            blocks.append(Block("list", items=tuple(line[2:].strip() for line in lines)))
        else:
            blocks.append(Block("paragraph", " ".join(lines)))
    return blocks
