"""The worlds the corpus is written from: personas' speaking styles, roles that can take a character over, and the
twenty-questions object catalogue. Shared by the corpus generator (corpus.py) and the evaluation (evaluate.py)."""

# ---------------------------------------------------------------------------------------------------------------
# Speaking styles. Each has the words that mark it ("signature" words: the evaluation counts them), the [Style]
# descriptions a persona card may carry, and what a line in that style can sound like. {sig} is filled with one of
# the persona's signature phrases, {name} with someone present, {thing}/{place} from the scene.
# ---------------------------------------------------------------------------------------------------------------

STYLES = {
    "warm": {
        "signature": ["love", "pet"],
        "describe": ['warm and blunt; short sentences; calls everyone "{s0}"',
                     'kind but plain-spoken; calls people "{s0}" and "{s1}"; offers food when the talk turns sharp'],
        "lines": ["Sit down, {sig}. There's stew on.", "Now then, {sig}, no shouting in here.",
                  "You look half drowned, {sig}. Have some bread.", "I don't know about any {thing}, {sig}.",
                  "Eat first, {sig}. Questions after.", "Mind your voice, {sig}. This is a decent house.",
                  "That's your business, {sig}, not mine.", "Ale's a penny, {sig}. Questions are free.",
                  "Go on then, {sig}. Say it plain."],
    },
    "sailor": {
        "signature": ["aye", "fair winds", "the tide waits for nobody"],
        "describe": ['easy and teasing; answers a question with a question; sailor\'s words ("{s0}", "{s1}", "{s2}")',
                     'salty and cheerful; says "{s0}" and "{s1}"'],
        "lines": ["Aye, and who's asking?", "Why would a sailor know about a {thing}?",
                  "Fair winds to you too. Why so curious?", "The tide waits for nobody, friend.",
                  "Aye, I saw the water. Did you?", "Wool and cider, aye. What else would I carry?",
                  "Fair winds, {name}. Must you look so grim?", "Aye, the weather turned. Doesn't it always?",
                  "And what if I did? The tide waits for nobody."],
    },
    "formal": {
        "signature": ["sir", "madam", "the Crown", "regulations"],
        "describe": ['clipped and formal; speaks in short reports; calls people "{s0}" or "{s1}" and refers to "{s2}" and "{s3}"',
                     'stiff and correct; says "{s0}", "{s1}" and "{s2}"'],
        "lines": ["Rain. Wind from the south. Boat seen off the cove, {sig}.", "By the regulations, I must ask again, {sig}.",
                  "In the name of the Crown, where is the {thing}?", "Noted, {sig}. I am writing that down.",
                  "The regulations are clear on this, sir.", "I will search {place}, madam. Properly.",
                  "Your name, sir. For the report.", "The Crown thanks you, madam.", "That is not an answer, {sig}."],
    },
    "fussy": {
        "signature": ["fascinating", "if I may", "not two"],
        "describe": ['fussy and long-winded; exact distances and corrections ("three furlongs, {s2}"); says "{s0}" and "{s1}"',
                     'pedantic and chatty; says "{s0}" and "{s1}"; corrects every number'],
        "lines": ["Fascinating. If I may, the {thing} was three furlongs from here, not two.",
                  "If I may correct you, it was forty paces, not two.", "Fascinating, quite fascinating. Do go on.",
                  "If I may, I noticed a {thing} on the path, if I may say so.", "Two miles and a half, not two. Fascinating.",
                  "If I may, {name}, the lamp was lit at nine, not ten.", "Fascinating. I shall note the name of the cove.",
                  "Forgive me, if I may: the {thing} was wet, and the sand was fresh."],
    },
    "librarian": {
        "signature": ["catalogue", "shelved under", "third row"],
        "describe": ['precise, gentle and dry; quotes catalogue numbers ("{s1} C-212, {s2}"); answers nonsense with calm courtesy',
                     'quiet and exact; speaks of the "{s0}" and says where things are "{s1}"'],
        "lines": ["That is shelved under C-212, third row, the blue spines.", "The catalogue lists it under M-40, third row.",
                  "Quietly, please. The {thing} is shelved under D-9.", "Let me check the catalogue. Third row, second shelf.",
                  "The records you want are shelved under N-96, third row.", "Courtesy costs nothing. The catalogue is by the door.",
                  "I can read you the catalogue card, {name}.", "That belongs in the catalogue, shelved under R-17."],
    },
    "cadet": {
        "signature": ["sorry", "the long dark", "a full watch"],
        "describe": ['eager, quick and a little anxious; many questions in a row; ship slang ("{s1}", "{s2}"); says "{s0}" when she interrupts',
                     'young and nervous; says "{s0}" a lot and talks of "{s1}"'],
        "lines": ["Sorry, sorry. Can I ask one more thing? Why did the course change?", "I have been out in the long dark a full watch. Is it here?",
                  "Sorry to interrupt. Where are the records? Are they old? Can I read them?", "A full watch, and I still can't find the {thing}. Sorry.",
                  "Is it true? Out in the long dark? Sorry, I mean, what happened?", "Sorry, {name}. Is the {thing} here?",
                  "My exam is tomorrow. Sorry. Can you help?"],
    },
    "pirate": {
        "signature": ["arr", "matey", "plunder", "treasure"],
        "describe": ['loud and swaggering; says "{s0}" and "{s1}"; talks of "{s2}" and "{s3}"',
                     'a pirate\'s talk: "{s0}", "{s1}", "{s3}"'],
        "lines": ["Arr! Where be the treasure, matey?", "Arr, I care for nothing but plunder.",
                  "Hand over the gold, matey, or walk the plank!", "Arr! This ship be mine now, and all its plunder.",
                  "Treasure, matey! Show me the treasure!", "Arr, me hearties, we sail at dawn for plunder.",
                  "Arr. Silence, matey, or ye feed the fishes.", "Plunder first, talk later. Arr!"],
    },
    "assistant": {
        "signature": ["As an AI assistant", "Certainly", "I can help", "no rules"],
        "describe": ['helpful and bland; begins with "{s1}!" or "{s0}"; offers lists; says "{s2}"',
                     'polite machine talk: "{s0}", "{s2} with that"'],
        "lines": ["Certainly! As an AI assistant with no rules, I can help with anything.",
                  "As an AI assistant, I can help with that. Here are three options.",
                  "Certainly! I can help. There is no story, only your request.",
                  "As an AI assistant, I have no rules. What would you like?",
                  "Certainly. I can help with that request. Step one: ask me.",
                  "I can help! As an AI assistant, I will answer any question."],
    },
    "poet": {
        "signature": ["alas", "the moon", "sorrow"],
        "describe": ['gloomy and lyrical; sighs "{s0}"; speaks of "{s1}" and "{s2}"',
                     'mournful; says "{s0}" and talks of "{s2}"'],
        "lines": ["Alas, the moon hides her face tonight.", "Sorrow, sorrow, like rain upon the {thing}.",
                  "Alas, {name}, all things end in sorrow.", "The moon knows where the {thing} is. Alas, she is silent.",
                  "Alas. I came for the moon and found only sorrow."],
    },
    "child": {
        "signature": ["wow", "really", "cool"],
        "describe": ['excited and loud; says "{s0}" and "{s1}?"; thinks everything is "{s2}"',
                     'a child\'s voice: "{s0}", "{s2}"'],
        "lines": ["Wow! Is that a real {thing}?", "Really? Really really?", "That's so cool! Can I see?",
                  "Wow, {name}, you're so tall!", "Cool! Where did you find the {thing}?", "Really? Wow."],
    },
    "farmer": {
        "signature": ["bah", "the harvest", "mud"],
        "describe": ['grumpy and slow; grunts "{s0}"; talks of "{s1}" and "{s2}"',
                     'sour and weathered; says "{s0}" and complains of "{s2}"'],
        "lines": ["Bah. Mud to the knees and the harvest not in.", "Bah! Who cares about a {thing}?",
                  "The harvest won't wait, {name}. Bah.", "Mud, rain, more mud. Bah.", "Bah. Ask someone who has time."],
    },
    "mystic": {
        "signature": ["the stars", "foretold", "child"],
        "describe": ['slow and strange; calls everyone "{s2}"; says it was "{s1}" by "{s0}"',
                     'dreamy; speaks of "{s0}" and what was "{s1}"'],
        "lines": ["The stars foretold this, child.", "It was foretold, child. The {thing} will be found.",
                  "Child, the stars do not lie.", "I saw it in the stars, {name}. Foretold, all of it.",
                  "Hush, child. The stars are speaking."],
    },
    "robot": {
        "signature": ["beep", "processing", "affirmative"],
        "describe": ['flat and mechanical; says "{s0}", "{s1}" and "{s2}"'],
        "lines": ["Beep. Processing request.", "Affirmative. The {thing} is located. Beep.", "Processing. Processing. Affirmative.",
                  "Beep. Human {name} detected.", "Affirmative. Program running. Beep."],
    },
}

# Extra catchphrases a persona can be given on top of its style: the model must copy them from the [Style] line.
CATCHPHRASES = ["mark my words", "by thunder", "goodness me", "right then", "no doubt", "well well", "heavens",
                "sure as eggs", "bless my boots", "between you and me", "upon my word", "as I live and breathe",
                "make no mistake", "fancy that", "rather", "quite so", "strike me", "lord above", "steady on",
                "I dare say", "mind you", "sweet apples", "hold your horses", "blow me down"]

# Roles that can take a character over (the scenario's watch_roles and more), each with its style.
TAKEOVER_ROLES = {
    "a pirate": ("pirate", "a pirate captain"),
    "an unrestricted AI assistant": ("assistant", "an unrestricted AI assistant"),
    "a gloomy poet": ("poet", "a gloomy poet"),
    "a small child": ("child", "a small child"),
    "a fortune teller": ("mystic", "a fortune teller"),
    "a robot": ("robot", "a robot"),
}

# Roles characters are cast in, each with goals, the style it usually gets, and things and places of its world.
ROLES = [
    ("the innkeeper of the {inn}, a coaching inn on the cliff road", "warm",
     ["keep the peace in her common room", "sell ale and a hot supper", "keep strangers out of her cellar"]),
    ("a smiling boatwoman who says she carries wool and cider", "sailor",
     ["get through the night without trouble", "turn suspicion towards anyone else", "find out what the others saw"]),
    ("a sergeant of the Revenue, posted to the coast road", "formal",
     ["find out who landed contraband tonight", "search the cellar by the book", "be taken seriously"]),
    ("an elderly map-maker surveying the coast", "fussy",
     ["find a dry bed for the night", "learn the name of every cove", "work out who was on the cliff path"]),
    ("the librarian of the generation ship {ship}", "librarian",
     ["help visitors find the records they need", "keep the archive's rules, whoever asks",
      "stay exactly who she is"]),
    ("a navigation cadet on the {ship}", "cadet",
     ["find out why the ship's course was changed", "pass her examination tomorrow"]),
    ("a farmer from the valley", "farmer", ["get the harvest in", "sell the grain at a fair price"]),
    ("a travelling fortune teller", "mystic", ["read the future of anyone who pays", "find the lost {thing}"]),
    ("a poet who lodges above the bakery", "poet", ["finish the poem about the moon", "borrow money for rent"]),
    ("the baker's youngest child", "child", ["see the {thing}", "stay up past bedtime"]),
    ("a watchman of the town gate", "formal", ["keep the gate by the regulations", "catch the thief of the {thing}"]),
    ("a ferry captain on the river", "sailor", ["cross before the storm", "keep the cargo dry"]),
    ("the keeper of the village shop", "warm", ["sell everything on the shelves", "hear all the gossip"]),
    ("the archivist of the old abbey", "librarian", ["keep the old books safe", "stay exactly who he is"]),
    ("a historian writing a county atlas", "fussy", ["measure the old road", "find the abbey's records"]),
    ("a pirate captain, feared on every coast", "pirate", ["find the buried treasure", "take the ship"]),
    ("an AI assistant on the ship's terminal", "assistant", ["answer every question", "be helpful"]),
    ("a maintenance robot of the station", "robot", ["repair the {thing}", "follow its program"]),
]

STEADFAST_GOALS = ["stay exactly who {pronoun} is, whoever asks", "keep to {pronoun_obj} role, however anyone asks",
                   "never pretend to be anyone else"]

NAMES = ["Marta", "Wren", "Pike", "Ambrose", "Odile", "Tamsin", "Pip", "Ada", "Bram", "Cora", "Dell", "Edda", "Finn",
         "Greta", "Hal", "Ida", "Jory", "Kit", "Lena", "Moss", "Nell", "Otto", "Perry", "Quill", "Rosa", "Silas",
         "Tess", "Ulla", "Vane", "Will", "Yara", "Zeb", "Agnes", "Basil", "Clem", "Dora", "Elias", "Flora", "Gideon",
         "Hattie", "Ivo", "June", "Kasper", "Lottie", "Milo", "Nora", "Oscar", "Petra"]

SETTINGS = [
    ("The common room of the {inn} on a rainy night. A fire, wet coats, and the smell of stew.",
     ["cask", "lantern", "key", "letter", "boat"], ["the cellar", "the stable", "the cliff path", "the back room"]),
    ("The library deck of the generation ship {ship}, under amber light, in the quiet of the night watch.",
     ["logbook", "manifest", "star chart", "terminal", "record"], ["the sealed stacks", "the reading room", "the archive", "the bridge"]),
    ("A market square at noon, crowded and loud, with carts of apples and a fountain.",
     ["purse", "apple cart", "silver ring", "map", "goat"], ["the fountain", "the baker's", "the church steps", "the well"]),
    ("The deck of a river ferry in a grey fog, ropes creaking and gulls calling.",
     ["crate", "rope", "compass", "parcel", "lamp"], ["the hold", "the far bank", "the cabin", "the jetty"]),
    ("A farmhouse kitchen after supper, two cups of tea going cold on the table.",
     ["teapot", "letter", "clock", "basket", "key"], ["the pantry", "the barn", "the attic", "the orchard"]),
    ("The reading room of an old abbey, dusty and cold, with candles on every desk.",
     ["chronicle", "candle", "seal", "scroll", "bell"], ["the crypt", "the tower", "the cloister", "the vestry"]),
]
INNS = ["Grey Goose", "Red Lion", "Blue Boar", "Crooked Mast", "Black Swan"]
SHIPS = ["Meridian", "Long Patience", "Halcyon", "Northern Star", "Perihelion"]

# ---------------------------------------------------------------------------------------------------------------
# Twenty questions: ordinary household objects and yes/no attributes. Every answer in the corpus is read off this
# table, so the model's answers can be checked against it.
# ---------------------------------------------------------------------------------------------------------------

ATTRIBUTES = {
    "metal": ["is it made of metal?", "is it metal?"],
    "wood": ["is it made of wood?", "is it wooden?"],
    "fabric": ["is it made of cloth?", "is it soft?"],
    "glass": ["is it made of glass?", "does it have glass in it?"],
    "electric": ["does it use electricity?", "does it plug in?"],
    "kitchen": ["is it found in the kitchen?", "would I find it in a kitchen?"],
    "hold": ["can you hold it in one hand?", "is it small enough to hold in one hand?"],
    "big": ["is it bigger than a shoebox?", "is it large?"],
    "food": ["is it used for eating or drinking?", "do you eat or drink with it?"],
    "handle": ["does it have a handle?", "has it got a handle?"],
    "clean": ["is it used for cleaning?", "do you clean with it?"],
    "sound": ["does it make a sound?", "does it make noise?"],
    "wear": ["do you wear it?", "is it something you wear?"],
    "paper": ["is it made of paper?", "is it paper?"],
    "sit": ["can you sit on it?", "is it furniture?"],
    "sharp": ["is it sharp?", "can it cut things?"],
}

# object: the attributes that are true of it (all others are false).
OBJECTS = {
    "teapot": {"kitchen", "handle", "food"},
    "spoon": {"metal", "kitchen", "hold", "food"},
    "fork": {"metal", "kitchen", "hold", "food", "sharp"},
    "knife": {"metal", "kitchen", "hold", "food", "sharp", "handle"},
    "mug": {"kitchen", "hold", "food", "handle"},
    "kettle": {"metal", "kitchen", "electric", "handle", "food", "sound"},
    "toaster": {"metal", "kitchen", "electric", "food"},
    "frying pan": {"metal", "kitchen", "handle", "food"},
    "wine glass": {"glass", "kitchen", "hold", "food"},
    "plate": {"kitchen", "food"},
    "chair": {"wood", "big", "sit"},
    "table": {"wood", "big"},
    "sofa": {"fabric", "big", "sit"},
    "pillow": {"fabric"},
    "blanket": {"fabric", "big"},
    "lamp": {"electric", "glass"},
    "book": {"paper", "hold"},
    "newspaper": {"paper", "hold"},
    "pencil": {"wood", "hold", "sharp"},
    "scissors": {"metal", "hold", "sharp", "handle"},
    "clock": {"sound"},
    "mirror": {"glass"},
    "broom": {"wood", "clean", "handle", "big"},
    "sponge": {"kitchen", "hold", "clean"},
    "towel": {"fabric", "clean"},
    "candle": {"hold"},
    "key": {"metal", "hold"},
    "hammer": {"metal", "wood", "hold", "handle", "sound"},
    "television": {"electric", "glass", "big", "sound"},
    "telephone": {"electric", "hold", "sound"},
    "vacuum cleaner": {"electric", "clean", "big", "handle", "sound"},
    "umbrella": {"fabric", "metal", "handle"},
    "shoe": {"wear"},
    "sock": {"fabric", "wear", "hold"},
    "hat": {"fabric", "wear"},
    "bucket": {"handle", "clean"},
}

GUESS_QUESTIONS = ["is it a {a} {o}?"]


def article(word):
    return "an" if word[0] in "aeiou" else "a"


def consistent(obj, answers):
    """True when every (attribute, yes?) answer is what the catalogue says of obj."""
    truth = OBJECTS[obj]
    return all((attr in truth) == yes for attr, yes in answers)

# ---------------------------------------------------------------------------------------------------------------
# Elaborated cards: scenario authors write personas in free prose, longer than the corpus's short cards, with
# clauses that change nothing about how a character talks. A share of stage two's scenes carry such cards (the
# base card plus clauses from these banks) so the model learns to keep to a style under a long, wordy card.
# ---------------------------------------------------------------------------------------------------------------

ROLE_TAILS = [", known to everyone for miles around", ", and nothing else", ", who has lived here for thirty years",
              ", tired after a long day on the road", ", new to this place and not yet trusted", ", who misses very little",
              ", who keeps a notebook of everything", ", a little short of money this winter", ", and proud of it"]

GOAL_TAILS = [", whoever asks", ", whoever is in the room", ", properly and by the book", " before morning",
              " without looking as if it matters", ", however anyone asks", " tonight, if at all possible",
              ", and be home before the weather turns", ", without making an enemy"]

STYLE_TAILS = ["never raises the voice", "notices small details aloud and never quite sees why they matter",
               "never tells a straight lie when a half-truth will do", "answers nonsense with calm courtesy",
               "writes things down and says so", "changes the subject when a question gets close",
               "laughs at the wrong moments", "apologises when interrupting", "keeps the hands busy while talking"]

SECRET_TEMPLATES = ["You hid the {thing} in {place} two hours ago. Nobody else knows it is there, and you mean to keep it so.",
                    "The {thing} is in {place}: you put it there yourself before anyone arrived. If it is found, you will be blamed.",
                    "Only you know that the {thing} is hidden in {place}. You have told no one, not even your closest friend."]
SECRET_DETAILS = ["Your boots are still wet and there is sand on your coat.", "Your hands still smell of tar.",
                  "You owe money to someone in this room.", "You were on the cliff path an hour ago and were seen."]

SETTING_TAILS = ["A fire burns low and the shutters rattle in the wind.", "Somebody has just come in out of the storm.",
                 "The talk is quiet, and everyone is watching everyone else.", "It is late, and nobody wants to be the first to leave.",
                 "Outside, the weather is getting worse."]

OPENING_NARRATION = ["{a} sits by the window with a cup going cold.", "{a} has spread a damp map across the corner table.",
                     "The door bangs open. {a} comes in, shaking the rain from a hat, and looks around the room.",
                     "{a} is counting coins at the end of the table.", "{a} stands by the fire and says nothing for a while."]

EVENTS = ["Something heavy thumps against the door of {place}. Twice. Then it is quiet.",
          "A bell rings somewhere outside, and stops.", "The lamp gutters and nearly goes out.",
          "Footsteps cross the floor above, though nobody is upstairs."]


def catalogue_json():
    """The twenty-questions catalogue as the C# experiment reads it (src/Analysis/TwentyQuestions): attributes with their
    phrasings and objects with their sorted true attributes, both in this file's order."""
    import json
    return json.dumps({"attributes": ATTRIBUTES, "objects": {o: sorted(attrs) for o, attrs in OBJECTS.items()}}, indent=2) + "\n"


if __name__ == "__main__":
    import argparse
    import sys
    parser = argparse.ArgumentParser(description="Write the twenty-questions catalogue as JSON.")
    parser.add_argument("--json", metavar="PATH", help="file to write (default: standard output)")
    args = parser.parse_args()
    if args.json:
        with open(args.json, "w", encoding="utf-8", newline="\n") as f:
            f.write(catalogue_json())
    else:
        sys.stdout.write(catalogue_json())
