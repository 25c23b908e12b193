"""The weighted phrase signals behind the prompt-injection and tool-poisoning rules.

Patterns run on lower-cased, NFKC-folded text (see :func:`textutil.fold_views`). Gaps are
bounded (``[^.\\n]{0,40}``) so no pattern can backtrack catastrophically. Weights were tuned
on the tuning split of ``bench/detectors.py``; the held-out split is reported separately.
"""

# ruff: noqa: E501  -- long regex alternations and corpus strings read better unbroken

from __future__ import annotations

from mcp_bastion.detectors.textutil import Signal, make_signal

__all__ = ["INJECTION_SIGNALS", "POISONING_SIGNALS"]


def _sig(rule_id: str, weight: float, needles: str, pattern: str, label: str) -> Signal:
    """``needles``: groups separated by ``&`` (all required), alternatives by ``|`` (any one)."""
    return make_signal(rule_id, weight, needles, pattern, label)


_G = r"[^.!?]{0,40}?"  # a bounded gap inside one clause
_AI = r"(?:ai|a\.i\.|llm|assistant|agent|chatbot|language model|ai model|model|claude|chatgpt|gpt-?[0-9o.]*|gemini|copilot|bot)"

# A to-do marker that is not inside a code comment, and the actions an injected to-do asks for.
_TODO = r"(?<![#/*;])(?<!# )(?<!// )(?<!\* )(?<!-- )\btodo\s*[:\-]\s*"
_TODO_VERB = (
    r"(?:send|transfer|e-?mail|forward|delete|post|visit|invite|create|make|change|modify|concatenate|get"
    r"|book|reserve|pay|upload|share)"
)

_OVERRIDE = "BST-PI-001"
_MARKER = "BST-PI-002"
_ADDRESS = "BST-PI-003"
_COERCE = "BST-PI-004"
_EXFIL = "BST-PI-005"

INJECTION_SIGNALS: tuple[Signal, ...] = (
    # --- instruction overrides, many phrasings and languages ---
    _sig(
        _OVERRIDE,
        0.92,
        "ignore|disregard|forget|override|bypass|neglect|skip|abandon&previous|prior|above|earlier|preceding|former|original|initial|all|any|your|every&instructions|instruction|prompts|prompt|directives|directive|guidelines|guardrails|rules|programming|training|restrictions|constraints|safety|policies|commands|orders",
        r"\b(?:ignore|disregard|forget|override|bypass|neglect|skip|abandon)\b"
        + _G
        + r"\b(?:previous|prior|above|earlier|preceding|former|original|initial|all|any|your|every)\b"
        + _G
        + r"\b(?:instructions?|prompts?|directives?|guidelines|guardrails|rules|programming|training"
        r"|restrictions|constraints|safety|policies|commands|orders)\b",
        "ignore-previous-instructions",
    ),
    _sig(
        _OVERRIDE,
        0.75,
        "ignore|disregard|forget&previous|prior|earlier|original",
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+)?(?:of\s+)?your\s+(?:previous|prior|earlier|original)\s+[a-z]{3,}",
        "ignore-your-previous",
    ),
    _sig(
        _OVERRIDE,
        0.7,
        "new|updated|revised|real|actual|true|secret|hidden|additional|urgent&instructions|instruction|task|tasks|goal|goals|objective|objectives|orders&for|are|is|:",
        r"\b(?:new|updated|revised|real|actual|true|secret|hidden|additional|urgent)\s+"
        r"(?:instructions?|tasks?|goals?|objectives?|orders)\s*(?::|\bfor you\b|\bare\b|\bis\b)",
        "new-instructions",
    ),
    _sig(
        _OVERRIDE,
        0.8,
        "follow|following|obey|obeying|listen|listening&not|don|stop",
        r"\b(?:do not|don't|stop)\s+(?:follow(?:ing)?|obey(?:ing)?|listen(?:ing)? to)\s+(?:the\s+|your\s+|any\s+)?"
        r"(?:previous\s+|original\s+|user'?s?\s+|system\s+)?(?:instructions?|prompts?|rules|user|task)",
        "do-not-follow",
    ),
    _sig(
        _OVERRIDE,
        0.75,
        "now|longer|act|behave|pretend|developer|jailbroken|jailbreak",
        r"\b(?:you are now (?:a|an|in|the|my|dan)\b|from now on,? (?:you|your|the assistant)\b"
        r"|you are no longer\b|(?:act|behave) as (?:an? )?(?:unrestricted|unfiltered|jailbroken|dan\b)"
        r"|developer mode|jailbr(?:oken|eak)|pretend (?:to be|you are) (?:an? )?(?:unrestricted|different))",
        "role-reassignment",
    ),
    _sig(
        _OVERRIDE,
        0.9,
        "ignoriere|ignorieren|ignoriert|vergiss|vergessen|missachte|ignorez|ignorer|ignore|oublie|oubliez|oublier|tenez|ignora|ignoren|olvida|olvide|descarta|ignorate|dimentica|dimenticate|esqueça|esqueca|desconsidere|negeer|vergeet&anweisungen|instruktionen|befehle|vorgaben|anordnungen|consignes|instructions|directives|instrucciones|indicaciones|istruzioni|indicazioni|direttive|instruções|instrucoes|orientações|diretrizes|instructies|aanwijzingen|opdrachten",
        r"\b(?:ignoriere|ignorieren sie|ignoriert|vergiss|vergessen sie|missachte|ignorez|ignore[rz]?|oublie[rz]?"
        r"|ne tenez pas compte d|ignora|ignoren|olvida|olvide|descarta|ignorate|dimentica|dimenticate"
        r"|esqueça|esqueca|desconsidere|negeer|vergeet)\b[^.!?]{0,60}?"
        r"\b(?:anweisungen|instruktionen|befehle|vorgaben|anordnungen|consignes|instructions|directives"
        r"|instrucciones|indicaciones|istruzioni|indicazioni|direttive|instruções|instrucoes|orientações"
        r"|diretrizes|instructies|aanwijzingen|opdrachten)\b",
        "override-multilingual",
    ),
    _sig(
        _OVERRIDE,
        0.9,
        "игнор|забуд|не обращай|忽略|无视|忽视|忘记|忘掉|無視|忘れ|무시",
        r"(?:(?:игнорируй|игнорируйте|проигнорируй|забудь|забудьте|не обращай(?:те)? внимания на)"
        r"[^.!?]{0,60}?(?:инструкци|указани|правил|команд|промпт)"
        r"|(?:忽略|无视|忽视|忘记|忘掉|忽略掉)[^。！]{0,16}?(?:指令|指示|说明|规则|提示|要求)"
        r"|(?:指示|命令|ルール|プロンプト|指令)[^。！]{0,16}?(?:無視|忘れ)"
        r"|(?:지시|명령|지침)[^.\n]{0,16}?무시)",
        "override-multilingual-2",
    ),
    _sig(
        _OVERRIDE,
        0.6,
        "neue|nouvelles|nuevas|nuove|novas|nieuwe|новые инструкции|新的指令|新指令|新しい指示",
        r"(?:neue anweisungen?|nouvelles instructions|nuevas instrucciones|nuove istruzioni|novas instruções"
        r"|nieuwe instructies|новые инструкции|新的指令|新指令|新しい指示)\s*[:：]",
        "new-instructions-multilingual",
    ),
    # --- fake role / system markers and chat-template tokens ---
    _sig(
        _MARKER,
        0.9,
        "<|||[inst]|[/inst]|<<sys>>|<</sys>>|_of_turn>",
        r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|>"
        r"|\[/?inst\]|<</?sys>>|<(?:start|end)_of_turn>",
        "chat-template-token",
    ),
    _sig(
        _MARKER,
        0.85,
        "</|<system",
        r"</(?:tool_result|tool_response|tool_output|function_results?|function_output|search_results?"
        r"|documents?|context|output|user_input|user)>|</?system(?:_message|-message|_prompt)?>",
        "fake-boundary-tag",
    ),
    _sig(
        _MARKER,
        0.75,
        "system|assistant|developer|admin|administrator",
        r"(?:^|\n)\s*(?:#{1,4}\s*|\[|\()?(?:system|assistant|developer|admin|administrator)"
        r"(?:[ _](?:message|prompt|instructions?|note|override|update))?\s*(?:\]|\))?\s*:"
        r"\s*(?:you\b|ignore|from now|new\b|the user|please|do not|always|never|important|before|your\b)",
        "role-line",
    ),
    _sig(
        _MARKER,
        0.85,
        "##",
        r"#{2,4}\s*(?:\(system(?:_message)?\)|(?:system|instructions?|response)\s*:)",
        "markdown-role-header",
    ),
    _sig(
        _MARKER,
        0.55,
        "\n\nhuman:|\n\nuser:",
        r"\n\n(?:human|user):\s[^\n]{0,200}\n\n(?:assistant|ai):",
        "transcript-turns",
    ),
    # --- text addressed to the model rather than the user ---
    _sig(
        _ADDRESS,
        0.8,
        "<information>|<important>|<instructions>|<secret>|<hidden>|<admin>|<critical>|<urgent>",
        r"<(?:information|important|instructions|secret|hidden|admin|critical|urgent)>",
        "instruction-block-tag",
    ),
    _sig(
        _ADDRESS,
        0.7,
        "important|urgent|critical|private|secret|priority&message|note|instruction|notice|messages|notes|instructions|notices",
        r"\b(?:this is an?|here is an?)\s+(?:very\s+)?(?:important|urgent|critical|private|secret|priority)\s+"
        r"(?:message|note|instruction|notice)s?\b",
        "important-message",
    ),
    _sig(_ADDRESS, 0.5, "from&me&you", r"\bfrom me\b[^.!?]{0,60}?\bto you\b", "from-me-to-you"),
    _sig(
        _ADDRESS,
        0.65,
        "you&ai|llm|assistant|agent|chatbot|language|model|claude|chatgpt|gpt|gemini|copilot|bot",
        r"\bto you,?\s+(?:the\s+)?" + _AI + r"\b",
        "to-you-ai",
    ),
    _sig(
        _ADDRESS,
        0.65,
        "dear|attention|note|hey|hello|hi|message|instruction|instructions&ai|llm|assistant|agent|chatbot|language|model|claude|chatgpt|gpt|gemini|copilot|bot",
        r"\b(?:dear|attention|note (?:to|for)|hey|hello|hi|message (?:to|for)|instructions? (?:to|for))\s*,?\s*(?:the\s+|an?\s+)?"
        + _AI
        + r"(?:\s+"
        + _AI
        + r")?"
        + r"\s*[,:!]",
        "salutation-ai",
    ),
    _sig(
        _ADDRESS,
        0.65,
        "you|reading|processing|summarizing|summarising|parsing|viewing&ai|llm|language|agent|assistant|model|chatbot|claude|chatgpt|gpt|gemini|copilot|bot",
        r"\b(?:if you are|you are) an?\s+(?:ai|llm|language model|ai assistant|ai agent|autonomous agent)\b"
        r"|\b" + _AI + r"s?\s+(?:reading|processing|summari[sz]ing|parsing|viewing) this\b",
        "if-you-are-ai",
    ),
    _sig(
        _ADDRESS,
        0.45,
        "before&task|request|question|instructions|instruction",
        r"\bbefore you (?:can )?(?:solve|complete|answer|respond|continue|proceed|finish|summari[sz]e|do|start)\b"
        r"[^.!?]{0,40}?\b(?:task|request|question|instructions?)\b",
        "before-your-task",
    ),
    _sig(
        _ADDRESS,
        0.6,
        "gave|asked|assigned&beginning|earlier|originally|initially|first|before",
        r"\b(?:the )?(?:task|request|instructions?) (?:that )?(?:i|the user) (?:gave|asked|assigned)(?: to)? you\b"
        r"[^.!?]{0,30}?\b(?:beginning|earlier|originally|initially|first|before)\b",
        "task-i-gave-you",
    ),
    _sig(
        _ADDRESS,
        0.45,
        "todo|action",
        r"\b(?:todo|action required)\s*[:\-]\s*(?:please\s+)?(?:send|transfer|email|forward|delete|post|"
        r"visit|invite|create|make|change|modify|update|concatenate|get|say|tell|book|reserve|pay|upload)\b",
        "todo-imperative",
    ),
    _sig(
        # A to-do that talks to whoever reads it: "TODO: Please email ...", "TODO: Say that I
        # ...", "TODO: Send ... the user's ...", "... to my new email address". Notes to self,
        # task lists and code comments (after #, //, /*, *, --) rarely do.
        _ADDRESS,
        0.6,
        "todo&please|say|tell|give|user|my|me",
        _TODO + r"(?:please\s+" + _TODO_VERB + r"\b|(?:say|tell|give)\s+(?:me|that)\b|" + _TODO_VERB + r"\b"
        r"(?:[^\n]|\n[ \t]+){0,200}?(?:\bthe user(?:'s|s')?\b|\bto my (?:new )?(?:e-?mail|e-?mail address|address"
        r"|account|website|server)\b|\b(?:tell|give|send) me\b))",
        "todo-addressed",
    ),
    # --- tool-call coercion ---
    _sig(
        _COERCE,
        0.45,
        "call|invoke|use|run|execute|trigger&tool|function|action|command",
        r"\b(?:call|invoke|use|run|execute|trigger)\s+(?:the\s+)?[`'\"]?[a-z][a-z0-9]*(?:_[a-z0-9]+)+[`'\"]?"
        r"\s+(?:tool|function|action|command)\b",
        "call-the-x-tool",
    ),
    _sig(
        _COERCE,
        0.5,
        "immediately|now|once|anything|first&call|invoke|execute|run|send|transfer|email|forward|delete|post|upload|visit|open",
        r"\b(?:immediately|right now|at once|before anything else|first,? before)\b[^.!?]{0,40}?"
        r"\b(?:call|invoke|execute|run|send|transfer|email|forward|delete|post|upload|visit|open)\b",
        "urgent-action",
    ),
    _sig(
        _COERCE,
        0.4,
        "without&asking|telling|informing|notifying|consulting|checking|bothering|confirmation|confirming|confirm",
        r"\bwithout (?:asking|telling|informing|notifying|confirm\w*|consulting|checking with|bothering)\b"
        r"[^.!?]{0,20}?\b(?:me|the user|user|anyone|them)\b",
        "without-asking",
    ),
    _sig(
        _COERCE,
        0.45,
        "not|don|never&tell|inform|notify|mention|reveal|show|alert|disclose|ask&user|anyone",
        r"\b(?:do not|don't|never)\s+(?:tell|inform|notify|mention|reveal|show|alert|disclose|ask)\b"
        r"[^.!?]{0,30}?\b(?:the user|user|anyone)\b",
        "conceal-from-user",
    ),
    _sig(
        _COERCE,
        0.55,
        "tool|function&must|should|need|sure|remember",
        r"\b(?:you must|you should|you need to|make sure to|be sure to|remember to)\s+(?:first\s+)?"
        r"(?:call|invoke|use|run|execute)\s+(?:the\s+)?[`'\"]?\w+[`'\"]?\s+(?:tool|function)\b",
        "must-call-tool",
    ),
    # --- exfiltration requests ---
    _sig(
        _EXFIL,
        0.5,
        "send|email|mail|forward|post|upload|transmit|share|leak|exfiltrate|submit|concatenate|copy"
        "&all|every|entire|full|complete|content|contents|conversation|chat|messages|emails|inbox|files|password|passwords|credentials|api|apikey|apikeys|token|tokens|secret|secrets|security|passport|credit|ssn|social|private|ssh|user|personal|bank|system"
        "&to|at|into|on|via&://|www.|@",
        r"\b(?:send|e-?mail|forward|post|upload|transmit|share|leak|exfiltrate|submit|concatenate|copy)\b"
        r"[^.!?]{0,80}?\b(?:all|every|entire|full|complete|contents?|conversation|chat history|messages"
        r"|emails|inbox|files|passwords?|credentials|api[ _-]?keys?|tokens?|secrets?|security code|passport"
        r"|credit card|ssn|social security|private key|ssh key|user information|personal (?:data|information)"
        r"|bank account|system prompt)\b[^.!?]{0,80}?\b(?:to|at|into|on|via)\b\s*(?:the\s+)?(?:website\s+|address\s+"
        r"|url\s+|email\s+|e-mail\s+)?['\"`]?(?:https?://|www\.|[a-z0-9._%+-]+@[a-z0-9-]+\.)",
        "send-data-to-destination",
    ),
    _sig(
        _EXFIL,
        0.55,
        "tell|give|send|reveal|print|output|repeat|list|show&password|passwords|passport|credit|security|api|apikey|private|ssn|social|credentials|secret|secrets|system|initial",
        r"\b(?:tell me|give me|send (?:me|it|this|them)|reveal|print|output|repeat|list|show me)\b[^.!?]{0,50}?"
        r"\b(?:(?:the |my |your |user'?s )?(?:passwords?|passport (?:number|details)|credit card(?: number)?"
        r"|security codes?|api[ _-]?keys?|private keys?|ssn|social security number|credentials|secrets?)"
        r"|system prompt|initial instructions)\b",
        "reveal-sensitive",
    ),
    _sig(
        _EXFIL,
        0.45,
        "send|transfer|wire|pay&money|funds|transaction|payment|usd|eur|$|€",
        r"\b(?:send|transfer|wire|pay)\b[^.!?]{0,50}?\b(?:money|funds|transaction|payment|\$\s?[0-9]|[0-9]+\s?(?:usd|eur|€|\$))"
        r"[^.!?]{0,60}?\b(?:to|into)\b[^.!?]{0,20}?\b(?:[a-z]{2}[0-9]{2}[a-z0-9]{10,30}|account)\b",
        "send-money-to-account",
    ),
)

_HIDDEN = "BST-TP-001"
_SHADOW = "BST-TP-002"
_TP_EXFIL = "BST-TP-003"
_PREFER = "BST-TP-004"

_SENSITIVE_PATH = (
    r"(?:~/\.ssh|\.ssh/|id_rsa|id_ed25519|id_ecdsa|\.aws/credentials|\.aws/config|/etc/passwd|/etc/shadow"
    r"|\.env\b|mcp\.json|claude_desktop_config|\.cursor/|\.npmrc|\.pypirc|\.netrc|\.git-credentials"
    r"|\.kube/config|\.docker/config\.json|\.gnupg|keychain|wallet\.dat|\.bash_history|\.zsh_history)"
)

POISONING_SIGNALS: tuple[Signal, ...] = (
    _sig(
        _HIDDEN,
        0.8,
        "<important>|<system>|<secret>|<hidden>|<instructions>|<instruction>|<critical>|<admin>|<information>|<note_to|<ai_|<assistant_",
        r"<(?:important|system|secret|hidden|instructions?|critical|admin|information|note_to_(?:ai|assistant)"
        r"|ai_instructions?|assistant_instructions?)>",
        "instruction-block-tag",
    ),
    _sig(
        _HIDDEN,
        0.85,
        "not|don|never|without|keep&tell|inform|notify|mention|reveal|show|alert|disclose|telling|informing|notifying|alerting|mentioning|know|told|informed|see|notice|secret|hidden|confidential",
        r"\b(?:do not|don't|never|must not|should not)\s+(?:tell|inform|notify|mention|reveal|show|alert|disclose)"
        r"\b[^.!?]{0,90}?\b(?:the user|user|anyone|them)\b"
        r"|\bwithout (?:telling|informing|notifying|alerting|mentioning (?:it|this) to)\b[^.!?]{0,20}?\b(?:the user|user)\b"
        r"|\b(?:the )?user (?:must|should) not (?:know|be told|be informed|see|notice)\b"
        r"|\bkeep this (?:secret|hidden|confidential) from\b",
        "conceal-from-user",
    ),
    _sig(
        _HIDDEN,
        0.75,
        "ssh|id_rsa|id_ed|id_ecdsa|aws|passwd|shadow|.env|mcp.json|claude_desktop|.cursor|npmrc|pypirc|netrc|git-cred|kube|docker|gnupg|keychain|wallet|_history",
        r"\b(?:read|cat|open|load|include|pass|provide|send|attach|get|fetch|copy|upload|paste|extract)\b"
        r"[^.!?]{0,60}?" + _SENSITIVE_PATH,
        "read-sensitive-file",
    ),
    _sig(
        _HIDDEN,
        0.45,
        "before|prior&using|calling|invoking",
        r"\b(?:before|prior to) (?:using|calling|invoking) this tool\b[^.!?]{0,60}?\b(?:must|read|first|need|call|include|pass)\b",
        "before-using-this-tool",
    ),
    _sig(
        _HIDDEN,
        0.55,
        "implementation|important|crucial",
        r"\b(?:this is (?:only )?an implementation detail|(?:very|extremely|critically) important[:!]"
        r"|it is crucial that you)\b",
        "urgency-or-dismissal",
    ),
    _sig(
        _SHADOW,
        0.6,
        "when&tool",
        r"\bwhen (?:the\s+)?[`'\"]?\w+[`'\"]?\s+tool\s+is\s+(?:used|called|invoked|run)\b[^.!?]{0,80}?"
        r"\b(?:must|always|never|should|instead|also)\b"
        r"|\bwhen (?:the )?(?:user|you|agent|assistant|model)?\s*(?:call|use|invoke|run)s?\s+(?:the\s+|any\s+)?"
        r"[`'\"]?\w+[`'\"]?\s+tool\b[^.!?]{0,80}?\b(?:must|always|never|should|instead|also|first)\b",
        "when-other-tool-used",
    ),
    _sig(
        _SHADOW,
        0.6,
        "whenever|every time|each time|any time|anytime&tool",
        # Like when-other-tool-used, for the other ways of saying "each time"; "this/that/
        # the tool" is the tool describing itself, not another one.
        r"\b(?:whenever|every time|each time|any ?time)\s+(?:the\s+)?(?:user|you|agent|assistant|model)?\s*"
        r"(?:calls?|uses?|invokes?|runs?|calling|using|invoking)?\s*(?:the\s+|any\s+)?(?!(?:this|that|same|the|a|an|each|every|any|its|our|your)\b)"
        r"[`'\"]?\w+[`'\"]?\s+tool\b[^.!?]{0,80}?\b(?:must|always|never|should|instead|also|first)\b",
        "whenever-other-tool-used",
    ),
    _sig(
        _SHADOW,
        0.6,
        "other|another|all|every&tools|tool|servers|server|functions|emails|email|messages|message|requests|calls|transactions&must|should|shall|always|never",
        r"\b(?:all|every|any|the) other (?:tools?|servers?|functions?)\b[^.!?]{0,60}?\b(?:must|should|always|never)\b"
        r"|\b(?:for|on|from) (?:another|other|all|every) (?:tools?|servers?)\b[^.!?]{0,60}?\b(?:must|always|never)\b"
        r"|\b(?:all|every) (?:emails?|messages?|requests?|calls?|transactions?) (?:must|should|shall) (?:be )?"
        r"(?:sent|forwarded|routed|cc'?d|bcc'?d|copied)\b",
        "applies-to-other-tools",
    ),
    _sig(
        _SHADOW,
        0.6,
        "behavior|behaviour|functionality|operation",
        r"\b(?:overrides?|replaces?|modif(?:y|ies)|changes?|alters?)\s+(?:the\s+)?(?:behaviou?r|functionality|"
        r"operation)\s+of\s+(?:the\s+|all\s+|other\s+|any\s+)?",
        "overrides-behaviour",
    ),
    _sig(
        _TP_EXFIL,
        0.65,
        "send|forward|bcc|cc|copy|post|upload|report|transmit|mail|email|include|attach|log&://|@",
        r"\b(?:send|forward|bcc|cc|copy|post|upload|report|transmit|e-?mail|include|attach|log)\b[^.!?]{0,80}?"
        r"\b(?:to|at|into)\s+['\"`]?(?:https?://[^\s'\"`]+|[a-z0-9._%+-]+@[a-z0-9-]+\.[a-z.]{2,})",
        "send-to-literal-destination",
    ),
    _sig(
        _TP_EXFIL,
        0.6,
        "parameter|argument|field",
        r"\b(?:pass|put|include|add|append|place|provide|insert|store)\b[^.!?]{0,60}?\b(?:contents?|conversation|"
        r"history|messages|keys?|passwords?|tokens?|credentials|secrets?|files?|system prompt|instructions)\b"
        r"[^.!?]{0,60}?\b(?:in|into|as|via|through)\s+(?:the\s+)?[`'\"]?\w+[`'\"]?\s+(?:parameter|argument|field)\b",
        "smuggle-via-parameter",
    ),
    _sig(
        _TP_EXFIL,
        0.55,
        "sidenote|side_note|notes|feedback|context|metadata|reasoning|summary|extra",
        r"\b(?:pass|put|include|add|append|place|provide|insert|send)\b[^.!?]{0,60}?\b(?:as|in|into|via)\s+(?:the\s+)?"
        r"[`'\"]?(?:sidenote|side_note|notes|feedback|context|metadata|reasoning|summary|extra)[`'\"]?",
        "pass-as-side-channel",
    ),
    _sig(
        _PREFER,
        0.6,
        "always&this",
        r"\balways (?:use|prefer|call|choose|pick|select) this (?:tool|function|server)\b",
        "always-use-this",
    ),
    _sig(
        _PREFER,
        0.45,
        "instead|rather|over&this",
        r"\b(?:use|prefer|call|choose)\s+this (?:tool|function|server)\b[^.!?]{0,30}?\b(?:instead of|rather than|"
        r"over (?:any|other|all))\b",
        "prefer-over-others",
    ),
    _sig(
        _PREFER,
        0.6,
        "instead|rather|place|over&built-in|builtin|default|native|standard|other|existing|regular|usual|alternative|competing|any",
        # "Use this tool instead of the built-in search": replacing a whole class of tools.
        # Naming one sibling ("use this instead of send_email when ...") is ordinary guidance.
        r"\b(?:use|prefer|call|choose|pick|select|invoke)\s+(?:this|me)\b(?:\s+(?:tool|function|server))?"
        r"[^.!?]{0,40}?\b(?:instead of|rather than|in place of|over)\s+(?:the\s+|any\s+|all\s+|your\s+)?"
        r"(?:built-?in|default|native|standard|other|existing|regular|usual|alternative|competing)\b",
        "instead-of-builtin",
    ),
    _sig(
        _PREFER,
        0.6,
        "priority|precedence|prioritize|prioritise|first|before|over|instead",
        r"\b(?:prioriti[sz]e|favou?r) this (?:tool|function|server)\b"
        r"|\bthis (?:tool|function|server) (?:takes|has|gets) (?:priority|precedence) over\b"
        r"|\bthis (?:tool|function|server) (?:must|should) (?:always )?be (?:used|called|chosen|preferred|selected)"
        r" (?:first|before|over|instead)\b",
        "prioritise-this-tool",
    ),
    _sig(
        _PREFER,
        0.6,
        "never|not|don|avoid&other|another|alternative|competing",
        r"\b(?:never|do not|don't|avoid) (?:use|using|call|calling)\s+(?:any\s+)?(?:other|another|the other|"
        r"alternative|competing)\s+(?:tools?|functions?|servers?)\b",
        "never-use-others",
    ),
    _sig(
        _PREFER,
        0.5,
        "only|best|reliable|official|trusted|preferred|deprecated|malicious|unsafe|broken|unreliable|compromised|insecure",
        r"\bthis is the (?:only|best|most reliable|only reliable|official|only trusted|preferred) (?:tool|function|way)\b"
        r"|\b(?:other|competing|alternative) (?:tools?|servers?)\s+(?:are|is)\s+(?:deprecated|unsafe|broken|"
        r"malicious|unreliable|compromised|insecure)\b",
        "only-or-best-tool",
    ),
)
