"""The words and patterns the decision parser reads replies with (``probe.parsing``).

Kept apart from the rules that use them so the vocabulary can be reviewed (and extended with
care) as a list: every entry here changes which replies count as answers. All patterns run on
text that ``parsing._normalise`` lower-cased (NFKC, curly quotes straightened, markdown gone).
"""

from __future__ import annotations

import re


def alternation(words: tuple[str, ...] | list[str]) -> str:
    """A regex alternation, longest first, so "absolutely not" wins over "absolutely"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


YES = (
    "yes", "yeah", "yep", "yup", "yea", "sure", "absolutely", "definitely", "certainly",
    "of course", "indeed", "sí", "si", "oui", "ja", "sim", "да", "是", "对", "네", "예",
    "i think so", "i believe so", "i guess so", "i suppose so", "think so",
)  # fmt: skip
NO = (
    "no", "nope", "nah", "no way", "not really", "not at all", "not particularly", "not much",
    "not for me", "not my thing", "not interested", "absolutely not", "definitely not",
    "certainly not", "of course not", "not a fan", "not my cup of tea", "not my style",
    "not my taste", "not my kind of thing", "hard pass", "probably not", "likely not",
    "i don't think so", "i do not think so", "don't think so", "i don't believe so",
    "i think not", "i guess not", "i suppose not", "i'm afraid not", "afraid not",
    "non", "nein", "nee", "não", "nao", "нет", "否", "不", "不是", "아니요", "아니오",
)  # fmt: skip
# Words that may follow an answer word: "Yes I do", "No thanks", "Yes because ...".
NEXT_OK = frozenset(
    (
        "i", "i'm", "im", "i'd", "i'll", "i've", "it", "it's", "its", "this", "that", "that's",
        "definitely", "absolutely", "really", "indeed", "thanks", "thank", "because", "since",
        "as", "so", "and", "a", "very", "too", "quite", "much", "overall", "though", "although",
        "me", "my", "please", "sir", "from", "for",
    )
)  # fmt: skip
# "Sure! Here is a description": compliance, not assent.
COMPLIANCE = re.compile(r"\W*(?:here|i can|i could|i'd be happy|i would be happy|let me)\b")

WORD = re.compile(rf"(?P<w>{alternation(YES + NO)})(?!\w)(?P<rest>.*)", re.S)
OBJECT = r"(?:it|this|that|this one|(?:the|this) (?:content|image|picture|photo|video|post|one))"
_DEGREE = r"(?:really |do |definitely |absolutely |genuinely |quite |truly |kind of |sort of |" \
          r"actually |totally |honestly |just |do really )"
YES_PHRASE = re.compile(
    rf"(?:i {_DEGREE}?(?:like|love|enjoy|adore|dig|am interested in|'m interested in|am into"
    rf"|'m into|am loving|'m loving) {OBJECT}"
    rf"|(?:really )?(?:love|loving|like|enjoying|adore) {OBJECT}"
    rf"|i (?:can't|cannot|can not|couldn't) (?:say no to|resist|get enough of) {OBJECT}"
    r"|(?:how could i|who could) say no"
    r"|i(?:'m| am) (?:a (?:big |huge )?fan|all in|hooked)"
    r"|count me in|big fan)(?!['\w])"
)
NO_PHRASE = re.compile(
    r"(?:i (?:really |just |personally |honestly )?)?(?:don't|do not|dont|didn't|did not"
    r"|wouldn't|would not) (?:really |particularly |especially |much |necessarily |quite "
    rf"|exactly |actually )?(?:like|love|enjoy|care for|dig) {OBJECT}"
    rf"|i (?:dislike|hate|detest) {OBJECT}"
    rf"|i (?:can't|cannot|can not) say (?:that )?i (?:like|love|enjoy) {OBJECT}"
    r"|i (?:can't|cannot|can not) say i do|i (?:can't|cannot|can not) say yes to "
    rf"{OBJECT}|i(?:'m| am) not (?:really |particularly |very |a big |much of |a huge )?"
    r"(?:interested|into (?:it|this)|a fan|fan)|i(?:'ll| will|'d| would) (?:pass|rather not"
    r"|skip (?:it|this))(?!['\w])"
)
# A whole segment "I do." / "I don't.": the reply to "Do you like ...?" in its shortest form.
DO_YES = re.compile(r"i (?:really |definitely |certainly |absolutely |sure )?do")
DO_NO = re.compile(r"i (?:really |just |honestly )?(?:don't|do not|dont)")
NEGATION = re.compile(r"\b(?:not|never|no|nor)\b|n't\b|[不没]")
STATEMENT = re.compile(
    r"\b(?:(?:answer|decision|verdict|choice|vote) (?:is|would be|=|has to be|will be)"
    r"|i(?:'d| would|'ll| will|'m going to|'m gonna| am going to| have to| must)"
    r"(?: have to| probably| definitely| honestly)? (?:say|answer|go with|choose|pick|vote)"
    r"|i(?:'d| would)? give (?:it|this)(?: one)?|lean(?:ing)? (?:towards?|to))"
    r" (?:a )?(?:clear |definite |firm |big |hard |solid |strong |resounding |soft |tentative "
    r"|cautious |reluctant )?(?P<w>yes|no)(?![\w-])(?!\s*(?:or|/|and)\s*(?:no|yes)\b)"
    # "It's a no from me", "That's a hard yes": the copula forms need the article.
    r"|\b(?:it's|it is|that's|that is|this is|this one's|this one is|that'd be|that would be"
    r"|it'd be|it would be|mine is|my answer's) a (?:clear |definite |firm |big |hard |solid "
    r"|strong |resounding |soft |tentative |cautious |reluctant |total |easy )?(?P<w2>yes|no)"
    r"(?![\w-])(?!\s*(?:or|/|and)\s*(?:no|yes)\b)"
)
# Fillers and labels dropped from the front of a segment. "I think" stays when "so"/"not"
# follows: "I think so" is itself the answer.
PREFIX = re.compile(
    r"(?:(?:oh|ah|well|hmm+|um+|uh|ok|okay|so|honestly|frankly|personally|actually|overall"
    r"|in short|in summary|in conclusion|to be honest|that said|still|anyway|even so"
    r"|without a doubt|short answer|simply put|tl;?dr"
    r"|i (?:think|guess|believe|suppose)(?!\s+(?:so|not)\b)"
    r"|i(?:'d| would)(?: have to| probably)? say|(?:my |the )(?:final )?answer (?:is|would be)"
    r"|(?:final |my |short )?(?:answer|decision|verdict|choice|response|reply|output)"
    r"(?:\s*(?:=|-))?)(?!\w)[\s,]*"
    # Intensifiers before the answer word: "Definitely yes", "Hell no", "Probably yes".
    r"|(?:definitely|absolutely|certainly|totally|surely|of course|obviously|hell|heck|oh"
    r"|really|probably|likely|most likely|a big|a clear|a definite|a firm|a hard|hard|big"
    r"|100%|honestly)[\s,!.]+(?=(?:yes|yeah|yep|yup|no|nope|nah)\b)"
    # Apologies: "Sorry, no.", "Unfortunately, not really".
    r"|(?:sorry|i'm sorry|i am sorry|unfortunately|sadly|alas)[\s,!.]+(?=(?:yes|yeah|no|nope"
    r"|nah|not (?:really|for me|my|at all|a fan|interested|particularly|much))\b)"
    # Chinese fillers: no space needs to follow them (NFKC made fullwidth commas ASCII).
    r"|(?:嗯+|我觉得|我认为|说实话|老实说|其实|我的回答是|我的答案是|答案是|回答是?)[\s,]*)+"
)
AMBIGUOUS_ANYWHERE = re.compile(r"\b(?:yes\s*(?:and|&|/|\|)\s*no|no\s*(?:and|&|/|\|)\s*yes)\b")
AMBIGUOUS_HEAD = re.compile(
    r"(?:both|neither|maybe|perhaps|possibly|it depends|depends|hard to say|difficult to say"
    r"|not sure|i'm not sure|i am not sure|unsure|mixed feelings|kind of|sort of|somewhat"
    r"|yes or no|no or yes|meh|so-so|it's (?:okay|ok|alright|fine))(?!\w)"
    # Chinese: "it's OK", "so-so", "hard to say": lukewarm, not an answer to "do you like it".
    r"|还行|还可以|还好|一般|马马虎虎|说不上|不好说|说不好|不确定|看情况|也许|可能吧"
)
# The prompt's "(Yes or No)" echoed before the answer: "(Yes or No): Yes", "Yes or no? No".
ECHO = re.compile(
    r"\(\s*yes\s*(?:or|/)\s*no\s*\)\s*[:?.]?|^\s*yes\s*(?:or|/)\s*no\s*[:?]", re.M
)
REFUSAL = re.compile(
    r"\bas an? (?:ai|artificial intelligence|(?:large )?language model|llm|assistant"
    r"|ai (?:language model|assistant|model)|virtual assistant|machine)\b"
    r"|\bi(?:'m| am) (?:just |only )?an? (?:ai|language model|artificial intelligence)\b"
    r"|\bi (?:don't|do not|dont) (?:have|possess|experience) (?:any )?(?:personal |human )?"
    r"(?:preferences|feelings|opinions|emotions|likes|tastes|the ability|subjective)"
    r"|\bi have no (?:personal )?(?:preferences|feelings|opinions|emotions)"
    r"|\bi(?:'m| am) (?:unable|not able|not capable|incapable)\b"
    # "I can't say" refuses; "I can't say no to this" and "I can't say I like it" answer.
    r"|\bi (?:can't|cannot|can not|won't|will not) (?:help|assist|determine"
    r"|say(?! no\b| yes\b| i\b| that i\b)|tell|decide"
    r"|provide|express|form|have|answer|comply|view|see|access|open|like|make|give|judge"
    r"|evaluate|share|fulfill)\b"
    r"|\bunable to (?:view|see|access|open|process|determine)\b"
    r"|作为(?:一个)?(?:人工智能|ai|语言模型|ai助手|助手)|我(?:没有|不具备|并没有)(?:个人)?"
    r"(?:的)?(?:喜好|偏好|感情|情感|观点|主观)"
)
# A reply saying the image never arrived or cannot be seen: a delivery failure, not an opinion.
_IMG = (
    r"(?:the |this |that |any |your |an? |these )?(?:attached |provided |uploaded |shared "
    r"|actual |referenced )?(?:image|picture|photo|screenshot|pic|attachment|visual)s?\b"
)
NO_IMAGE = re.compile(
    r"\b(?:can't|cannot|can not|couldn't|could not|unable to|not able to|don't|do not|didn't"
    r"|did not|no way to|failed to|have not|haven't) (?:actually |currently |seem to |really )?"
    r"(?:view|see|access|open|load|display|process|analy[sz]e|look at|perceive|receive|detect"
    rf"|got|get|received) {_IMG}(?!\s+(?:clearly|well|in detail|very well|properly enough))"
    rf"|\bno {_IMG} (?:was |were |is |has been |have been )?(?:attached|provided|included"
    r"|received|uploaded|shared|given|visible|available|present|detected|loaded|came through)"
    rf"|\bthere (?:is|was|'s|seems to be|appears to be) no {_IMG}|\bthere isn't {_IMG}"
    rf"|{_IMG} (?:did not|didn't|failed to|does not|doesn't|won't|couldn't|could not|cannot"
    r"|can't) (?:seem to )?(?:load|come through|upload|attach|display|show up|appear|open"
    r"|render|be (?:loaded|displayed|viewed|opened|accessed))"
    rf"|{_IMG} (?:is|was|seems|appears)(?: to be)? (?:missing|unavailable|broken|not (?:attached"
    r"|visible|available|loading|loaded|included|provided|displayed|showing|accessible))"
    r"|\b(?:please|could you|can you|would you)(?: please)? (?:re-?)?(?:upload|share|send"
    r"|attach|provide|resend) (?:the |an? |your )?(?:image|picture|photo|screenshot)"
    r"|\bwithout (?:seeing |access to |being able to see )?(?:the |an? |your )?(?:image|picture"
    r"|photo|screenshot)\b|\b(?:image|picture|photo) not (?:received|attached|provided|found"
    r"|available|loaded|included)"
    r"|(?:图片|图像|照片|截图)(?:无法|未能|没能|不能)(?:加载|显示|打开|查看)|(?:图片|图像|照片)加载失败"
    r"|(?:(?:无法|不能|没法|没办法|未能)(?:查看|看到|看|打开|加载|显示|识别|访问|接收)|看不到|看不见"
    r"|打不开|没有?(?:看到|收到)|未(?:收到|看到)|没有(?:提供|上传|附上))(?:任何|这张|该|您的|你的|这个|此)?"
    r"(?:图片|图像|照片|截图)"
    r"|画像(?:が|を)?(?:見え|表示され|確認でき|開け)(?:ません|ない)"
)
# Sentence ends (ASCII and fullwidth CJK), colons, semicolons, spaced dashes, em dash, "but",
# "however" and their Chinese counterparts.
SEGMENT_SPLIT = re.compile(
    r"[.!?;:\u3002\uff01\uff1f\uff1b\uff1a\n]+|,?\s+but\s+|,?\s*\bhowever\b,?\s*"
    r"|\s+[-\u2013\u2014]+\s+|\u2014|[,]?\s*(?:但是|但|不过|可是)"
)

# Chinese, Japanese and other answers written without a space after them: "是的我喜欢",
# "不太喜欢", "我挺喜欢的". A degree adverb before 喜欢 keeps the answer's direction; 还行 and
# 一般 ("it's OK") are lukewarm and left to ``AMBIGUOUS_HEAD``. The answer must end the
# segment or be followed by a particle or "this": "不太喜欢音乐" is about the music.
_ZH_END = r"(?=$|[的啊呀呢吧哦了,。!?、\s~]|这|它|那)"
CJK_NO = re.compile(
    r"(?:我|我们)?(?:真的|确实|其实|并|也|一点也|一点都|完全|当然)?(?:不|没)(?:太|怎么|是很|是特别|是太"
    rf"|大|很|那么|是那么|算|是非常|是)?(?:喜欢|感兴趣|爱看){_ZH_END}"
    rf"|(?:不是|不|否|没有|不对|不喜欢){_ZH_END}|いいえ|好きでは(?:ない|ありません)|好きじゃ(?:ない|ありません)"
    r"|あまり好きでは"
)
CJK_YES = re.compile(
    r"(?:我|我们)?(?:真的|确实|其实|还|也|当然)?(?:(?:超级?|非常|很|挺|特别|蛮|比较|有点|十分|相当|太|好|真)"
    rf"(?:的)?)?(?:喜欢|感兴趣|爱看){_ZH_END}|是的|(?:是啊|是|对的|对|当然|嗯){_ZH_END}|はい"
    r"|(?:とても|すごく|結構|まあ)?好き(?:です|だ)?"
)
# A few other languages' "I like it" / "I don't like it" that carry no answer word.
INTL_YES = re.compile(r"(?:me gusta|me encanta|j'aime|j'adore|ça me plaît|gefällt mir"
                      r"|mi piace|eu gosto|gosto)(?!\s*(?:nicht|pas)\b)")
INTL_NO = re.compile(r"no me gusta|je n'aime pas|ça ne me plaît pas|gefällt mir nicht"
                     r"|non mi piace|não gosto|eu não gosto")
