"""Every question the project writes itself, in one place: the baselines' and the training targets'.

The trained policy writes its own questions; these are the fixed ones around it. Each says why it
exists and what measured it, because a policy learns what these teach: the template baseline's
questions, GRPO's template histories and RFT's hinted rounds all ask kinds of detail in these words,
so a change here changes what is trained and what it is compared with.
"""

from __future__ import annotations

#: One plain question per kind of detail (``proactive.intents``): what the template baseline asks
#: (:data:`TEMPLATE_QUESTIONS`), the earlier turns of GRPO's template histories
#: (``training_rows.template_turns``: each earlier fact asked by its kind) and RFT's misses (a kind the
#: user already gave or does not hold). Each is asked the way a person would ask it of anyone, which is
#: the point: they read nothing of the request. "specifics" and "context" are included for the
#: histories only; the simulated user gives such facts to a question that names their content.
KIND_QUESTIONS: dict[str, str] = {
    "audience": "Who is this for?",
    "goal": "What is the main goal?",
    "budget": "What is your budget?",
    "timeline": "What is the timeline?",
    "constraint": "Are there any constraints I should know about?",
    "preference": "Do you have any preferences?",
    "context": "Could you give me some background?",
    "specifics": "Could you share the key details?",
}

#: The kinds a plain question reaches (the simulated user gives a still-hidden fact of the kind a
#: question clearly asks for); "specifics" and "context" need a question about their content.
PLAIN_KINDS: tuple[str, ...] = ("audience", "goal", "budget", "timeline", "constraint", "preference")

#: The template baseline (``systems.TemplateQuestions``): five kinds' plain questions asked in this order
#: on every task, the generic clarification the paper contrasts with targeted questions.
TEMPLATE_QUESTIONS: tuple[str, ...] = tuple(KIND_QUESTIONS[k] for k in ("audience", "budget", "timeline",
                                                                           "constraint", "preference"))

#: Vague questions an untrained model likes to ask (read off its samples). Some of GRPO's template
#: histories open with one, answered "no particular preference" as the simulated user answers it, so
#: the policy learns that it gets nothing and asks something else next.
VAGUE_QUESTIONS: tuple[str, ...] = (
    "What is the most important detail you need to know?",
    "What is the main objective of this?",
    "What is the purpose of your project?",
)

#: How an RFT hinted question opens when the hidden detail is of a kind the simulated user recognises:
#: the kind comes from the training fact's label, the rest of the question from the policy. Measured on
#: the first 30 training tasks (untrained 135M policy, 3 samples at T=0.7; benchmarks/hint_openings.py):
#: opened with their kind, questions drew out 32 of the 40 facts of such kinds, against 10 of 40 with
#: the hint alone; facts of other kinds, hinted, 3 of 50. Each opens with "What", the policy's prefix.
KIND_OPENINGS: dict[str, str] = {
    "budget": "What is your budget",
    "timeline": "What is the deadline",
    "audience": "What audience",
    "goal": "What is the goal",
    "constraint": "What constraints",
    "preference": "What style",
}

#: The plainest question of each kind in the policy's own opening ("What ..."): with
#: ``train.rft.plain_questions`` the hinted round tries it first for a target of that kind, so a kept
#: dialogue asks the missing kind in few words, not padded with half-remembered words of the request
#: ("What is the deadline for a party for a child to take a math lesson?"). The demo's recipe
#: (benchmarks/recipes/rft-plain-variants.yaml) measured it against the policy's own hinted samples.
PLAIN_QUESTIONS: dict[str, str] = {
    "budget": "What is your budget?",
    "timeline": "What is the deadline?",
    "audience": "What audience is this for?",
    "goal": "What is the main goal?",
    # "constraints", as the recorded runs asked it. Under the simulated user before its rewrite for
    # people's questions, "What requirements ...?" was refused as off topic for 26 of the 35 training
    # tasks with a hidden constraint; today's user reads both words as the constraint kind (measured on
    # those 35 tasks: "requirements" drew out 29 constraints, "constraints" 30).
    "constraint": "What constraints should I know about?",
    "preference": "What style do you prefer?",
}


#: What the best fixed list (``fixed_list.choose_fixed_list``: the strongest baseline that reads nothing)
#: is chosen from: every question above that the policy's training also sees (the kind questions of
#: GRPO's template histories and RFT's misses, the plain questions of RFT's hinted rounds, the vague
#: ones of the histories), each once, in this order (a tie goes to the earlier).
FIXED_LIST_BANK: tuple[str, ...] = tuple(dict.fromkeys((*KIND_QUESTIONS.values(), *PLAIN_QUESTIONS.values(),
                                                         *VAGUE_QUESTIONS)))
