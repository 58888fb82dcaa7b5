"""Word lists the extractors share: titles, nouns that name people, reporting verbs, outlets."""

from __future__ import annotations

# Honorifics and offices written before a name ("Mr Gady", "President Putin").
TITLES = frozenset(
    """mr mrs ms miss dr prof professor sir dame lord lady rev sen senator rep gov governor
    president pm minister chancellor secretary general gen col colonel capt captain lt sgt
    judge justice king queen prince princess pope sheikh ayatollah mayor chairman ceo""".split()
)

# Head nouns of descriptions that can speak: "one resident", "a western official", "the woman".
PERSON_NOUNS = frozenset(
    """man woman men women boy girl person people resident residents official officials source
    sources spokesman spokeswoman spokesperson minister ministers president secretary analyst
    analysts expert experts fellow researcher researchers scientist scientists economist
    economists doctor doctors nurse police policeman officer officers soldier soldiers commander
    general witness witnesses activist activists lawyer lawyers attorney prosecutor prosecutors
    judge leader leaders chief executive executives director directors manager managers chairman
    chairwoman chair founder owner worker workers employee employees student students teacher
    parent parents mother father son daughter wife husband friend friends neighbour neighbor
    neighbours neighbors aide aides adviser advisers advisor advisors diplomat diplomats envoy
    ambassador governor mayor senator senators lawmaker lawmakers legislator legislators mp mps
    candidate voter voters critic critics supporter supporters observer observers insider
    insiders historian professor author writer journalist journalists reporter reporters
    editor correspondent campaigner campaigners protester protesters victim victims survivor
    survivors refugee refugees fan fans player players coach manager star singer actor actress
    trader traders dealer dealers banker bankers investor investors broker brokers
    representative representatives member members staff operative operatives strategist
    strategists pollster pollsters consultant consultants organiser organizer organisers
    organizers priest bishop commissioner inspector detective sergeant captain colonel
    spokespeople negotiator negotiators governor regulator regulators""".split()
)

# Lemmas of verbs that report speech or writing ("said", "told", "warned", "claims").
REPORTING_VERBS = frozenset(
    """say tell add warn explain claim state insist write report note argue ask reply respond
    continue announce declare confirm deny admit acknowledge suggest predict estimate forecast
    believe think feel know allege assert contend maintain stress emphasise emphasize point
    recall describe quote cite comment remark observe tweet post testify conclude concede agree
    disagree complain urge demand promise pledge vow threaten caution advise recommend reveal
    disclose indicate show find mention propose reiterate repeat answer counter retort joke
    boast lament acknowledge hint signal told call""".split()
)
# Verbs that report an intention or a demand with an infinitive: "vowed to …", "urged X to …".
INTENT_VERBS = frozenset(
    """promise vow pledge threaten urge encourage want plan agree refuse decline demand
    intend hope seek call""".split()
)
# The strongest cues: direct speech around quote marks almost always uses one of these.
SPEECH_VERBS = frozenset(
    """say tell add warn explain claim insist write reply respond continue announce declare
    ask answer note argue state recall remark tweet post testify admit concede joke boast
    lament retort counter comment quip""".split()
)

PRONOUNS = {
    "he": "male",
    "him": "male",
    "she": "female",
    "her": "female",
    "they": "plural",
    "them": "plural",
    "i": "first",
    "we": "first",
}

# Words in an organisation's name that mark it as a news medium, for `claims.outlet`.
OUTLET_WORDS = frozenset(
    """news times post journal telegraph guardian herald tribune gazette chronicle mail express
    observer independent economist reuters ap afp bloomberg cnn bbc itn nbc abc cbs fox msnbc
    npr pbs sky radio tv television channel magazine newspaper daily weekly press agency
    tass interfax xinhua ria al-jazeera aljazeera politico axios breitbart huffington buzzfeed
    vox slate atlantic newsweek time wire network""".split()
)

# Words in a multi-word name that make it an organisation, not a person.
ORG_WORDS = frozenset(
    """institute university college school bank group company corp corporation inc ltd plc llc
    party ministry department agency council committee commission association union federation
    foundation fund trust society club army navy force forces police court parliament congress
    senate assembly government office board bureau service services news times post airlines
    airways motors industries holdings partners capital securities international""".split()
)
