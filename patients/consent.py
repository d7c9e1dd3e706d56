"""Informed consent for ketamine infusions: the first version's texts, and how a text is shown.

A version is a `ConsentDocument` row (patients/models.py) and the legal unit a patient signs; it
has one `ConsentText` per patient language (settings.LANGUAGES), all written as a draft and
published together by the medical director in admin (services.consent_publish), never changed
once published. FIRST_VERSION below was seeded by the migrations as version 2026.1: FIRST_TITLE
and FIRST_BODY in English (0009), FIRST_TITLE_ES and FIRST_BODY_ES in Spanish (0013, the same
version, so nobody signs again). They are kept here so the migrations and the tests read one copy.

Sources: the clinic's own list of risks (blood pressure changes, irregular heart rhythm,
interactions with benzodiazepines, opioids and alcohol, seizures) and the ketamine prescribing
information and literature (dissociation, nausea and vomiting, dizziness, sedation, raised blood
pressure and heart rate, off-label use).

The Spanish text is a complete translation of FIRST_BODY, paragraph by paragraph and item by item
(plain US Latin-American Spanish, "usted"; drug names as in Spanish prescribing: ketamina,
esketamina, lorazepam...). Its one addition is the 988 line's "marque 2 para español", as on every
Spanish page of the site. It was written by the engineering team: the medical director and the
clinic's legal counsel must review it before it is used with patients in production.
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


FIRST_TITLE_ES = "Consentimiento para infusiones de ketamina en casa"

FIRST_BODY_ES = """## Qué es este tratamiento
La ketamina es un medicamento aprobado en los Estados Unidos como anestésico. Administrarla por \
goteo en una vena (una infusión intravenosa o IV) en dosis bajas para tratar la depresión, el \
trastorno de estrés postraumático (TEPT) o la ansiedad es un uso "fuera de indicación" \
("off-label"): la FDA no la ha aprobado para estas afecciones, aunque hay estudios y experiencia \
clínica que respaldan su uso. Un aerosol nasal de ketamina (esketamina) está aprobado para algunos \
tipos de depresión; nuestras infusiones no son ese producto.

No se garantiza que el tratamiento le ayude. Algunas personas se sienten mejor en pocos días; \
otras no mejoran. Usted puede dejar el tratamiento en cualquier momento y puede elegir otros \
tratamientos (terapias psicológicas, otros medicamentos, estimulación magnética transcraneal o \
TMS, terapia electroconvulsiva o ECT); su profesional clínico puede hablar con usted sobre ellos.

## Efectos secundarios durante la infusión y poco después
- Sentirse separado(a) de usted mismo(a) o de lo que le rodea, como en un sueño o como si nada \
fuera real ("disociación"); cambios en cómo ve, oye o siente las cosas, y una sensación distinta \
del paso del tiempo. Por lo general, esto desaparece en una o dos horas después de que termina la \
infusión.
- Náuseas y vómitos. Por favor, no coma nada durante las 6 horas antes de una infusión.
- Mareos, somnolencia, visión borrosa o doble, dolor de cabeza y sensación de inestabilidad.
- Ansiedad, confusión o experiencias desagradables durante la infusión.
- Aumento de la presión arterial y del ritmo cardíaco. La enfermera o el enfermero los revisa \
antes, durante y después de cada infusión, y detiene la infusión si suben demasiado.

## Riesgos menos frecuentes pero graves
- Cambios en la presión arterial, alta o baja, que pueden necesitar tratamiento.
- Un ritmo cardíaco irregular.
- Respiración lenta o superficial, más probable si también toma otros medicamentos que dan sueño \
(sedantes) o alcohol.
- Convulsiones (raras).
- Una reacción alérgica a la ketamina.
- Aumento de la presión en los ojos o dentro del cráneo.
- Empeoramiento del estado de ánimo, o pensamientos de hacerse daño. Avísenos de inmediato si esto \
ocurre.
- La ketamina se puede usar de forma indebida. Usarla fuera del tratamiento, o con frecuencia, \
puede dañar la vejiga y el hígado, y puede causar dependencia.

## Medicamentos y alcohol
La ketamina interactúa con las benzodiacepinas (por ejemplo, lorazepam, alprazolam, clonazepam), \
los opioides y el alcohol: juntos pueden hacer más lenta su respiración y darle mucho más sueño. \
Los estimulantes y algunos antidepresivos (los IMAO) pueden subir todavía más la presión arterial. \
Díganos todos los medicamentos que toma, y no tome alcohol el día antes, el día de la infusión ni \
el día después.

## Reglas de seguridad para cada infusión
- Un adulto de su confianza debe estar con usted en su casa durante la infusión y por lo menos \
durante las 4 horas siguientes.
- No maneje, no ande en bicicleta, no use maquinaria ni tome decisiones importantes hasta el día \
siguiente, después de una noche completa de sueño.
- La enfermera o el enfermero puede detener la infusión en cualquier momento si no es seguro \
continuar.
- Usted puede pedir que se detenga la infusión en cualquier momento.

## Cómo comunicarse con nosotros
Llame a la clínica al {clinic_phone} o escriba al equipo de atención en su portal (los mensajes se \
leen en horario de trabajo). Si se siente mal después de una infusión, llámenos.

En una emergencia, llame al 911. Si está en crisis o piensa en hacerse daño, llame o envíe un \
mensaje de texto al 988 (la Línea de Prevención del Suicidio y Crisis; al llamar, marque 2 para \
español), a cualquier hora.

## Su consentimiento
Al escribir su nombre y marcar la casilla, usted confirma que ha leído este documento, que ha \
tenido la oportunidad de hacer preguntas y que acepta recibir infusiones de ketamina en su casa. \
Puede retirar su consentimiento en cualquier momento con solo decírnoslo.
"""

# The first version's texts by language (settings.LANGUAGES): what the migrations seeded.
FIRST_TEXTS = {"en": (FIRST_TITLE, FIRST_BODY), "es": (FIRST_TITLE_ES, FIRST_BODY_ES)}


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
