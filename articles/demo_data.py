"""Demo content for the Masthead demo site: a management-skills publication.

Everything here is original, fictional demo material. People are invented.
Each article has a public ``intro`` and a gated ``body`` (Markdown).
"""

from textwrap import dedent

TOPICS = [
    {
        "name": "Leadership",
        "slug": "leadership",
        "description": "Setting direction, building trust and steering teams steadily through uncertainty and change.",
    },
    {
        "name": "Productivity",
        "slug": "productivity",
        "description": "Practical ways to prioritise, run better meetings and protect your team's time for the work that matters.",
    },
    {
        "name": "Communication",
        "slug": "communication",
        "description": "Giving feedback, writing clearly and holding the conversations that keep a team aligned.",
    },
    {
        "name": "Growing People",
        "slug": "growing-people",
        "description": "Onboarding, coaching and one-to-ones that help every member of your team do their best work.",
    },
]


PEOPLE = [
    # Authors
    {
        "name": "Imogen Castellane",
        "slug": "imogen-castellane",
        "role": "Senior Editor, Leadership",
        "bio": (
            "Imogen spent twelve years running operations teams in logistics and healthcare "
            "before turning to writing about the everyday craft of management. She edits the "
            "publication's leadership coverage and is particularly interested in how managers "
            "lead well when the way ahead is unclear."
        ),
    },
    {
        "name": "Tobias Renwick",
        "slug": "tobias-renwick",
        "role": "Content Writer and Editor",
        "bio": (
            "Tobias managed customer support and product teams at two fast-growing software "
            "companies, where he learned most of his lessons the hard way. He writes about "
            "productivity, one-to-ones and the small habits that keep teams healthy."
        ),
    },
    {
        "name": "Priya Halloway",
        "slug": "priya-halloway",
        "role": "Staff Writer, Communication",
        "bio": (
            "Priya began her career as a newspaper sub-editor and later led internal "
            "communications for a large public-sector organisation. She writes about feedback, "
            "meetings and clear writing, and believes most workplace problems start with a "
            "message nobody quite understood."
        ),
    },
    # Reviewers
    {
        "name": "Dr Sunniva Hallett",
        "slug": "sunniva-hallett",
        "role": "Organisational Psychologist and Reviewer",
        "bio": (
            "Sunniva is an organisational psychologist who advises employers on team dynamics, "
            "wellbeing and change. She reviews our articles to make sure the advice is "
            "consistent with current evidence about behaviour at work."
        ),
    },
    {
        "name": "Rhodri Pennant",
        "slug": "rhodri-pennant",
        "role": "Executive Coach and Reviewer",
        "bio": (
            "Rhodri has coached senior leaders and first-time managers for more than fifteen "
            "years, after an earlier career in retail management. He reviews our articles for "
            "practicality, asking of every tip whether a busy manager could use it on Monday morning."
        ),
    },
]


ARTICLES = [
    # ------------------------------------------------------------------
    # A long guide: headings in its public part too, so a teaser reader sees contents of what
    # they may read, and a member the whole guide's, with its sub-sections.
    {
        "title": "Your First Ninety Days as a Manager: A Field Guide",
        "slug": "first-ninety-days-as-a-manager",
        "topic": "leadership",
        "author": "imogen-castellane",
        "reviewer": "sunniva-hallett",
        "visibility": "premium",
        "featured": False,
        "days_ago": 1,
        "summary": (
            "A week-by-week guide for new managers: what to learn, what to leave alone, and "
            "how to earn the team's trust before you try to change anything."
        ),
        "seo_description": (
            "A field guide to a new manager's first ninety days: listening before acting, "
            "agreeing priorities with your own manager and making early, modest changes."
        ),
        "intro": dedent(
            """
            The first three months in a management role shape how a team sees you for years. People decide early whether you listen, whether you keep your word and whether you will defend them when things go wrong. Most of those judgements are formed before you have made a single decision of any weight.

            This guide walks through the period in stages. The first part, below, is about arriving well. The rest covers the conversations, the first changes and the habits worth building before the ninety days are up.

            ## Why the first weeks matter

            A new manager is watched closely, and not always kindly. The team has seen managers come and go, and each of them brought ideas. What they have not always seen is someone who took the trouble to understand how the work is really done before proposing to improve it. Patience in the opening weeks is not passivity: it is how you earn the right to ask for change later.

            ## What not to do in week one

            Resist announcing a vision. Avoid reorganising the team calendar, renaming meetings or replacing tools, however tempting. Do not compare the team unfavourably with your previous one, even in jest; people hear it as a verdict. And do not promise things you cannot yet judge, such as pay rises, promotions or an end to an unpopular process.

            ## A simple plan for the period

            Think of the ninety days as three blocks of roughly a month: listening, agreeing and acting. The boundaries are loose, but the order matters. Acting before listening produces changes nobody asked for; listening without ever agreeing priorities leaves the team unsure what you stand for.
            """
        ).strip(),
        "body": dedent(
            """
            ## Days 1 to 30: listen

            Your main task in the first month is to learn how the team works, what it is proud of and what frustrates it. Take notes, and say that you are taking them: it signals that you intend to act on what you hear.

            ### Hold a first one-to-one with everyone

            Book thirty minutes with each person in your first fortnight. Ask the same few questions of everyone so that patterns stand out: what is going well, what gets in the way, what they would change if it were their decision, and what they need from a manager. Do not defend the past or promise fixes during these conversations; thank people and write it down.

            ### Learn the work itself

            Sit in on the team's routine work. Read the last quarter's reports, watch a handover, listen to a difficult customer call. Managers who skip this step end up managing the work as they imagine it rather than as it is.

            ## Days 31 to 60: agree

            By the second month you will have a list of themes. Now is the time to agree what matters most, first with your own manager and then with the team.

            ### Agree expectations with your own manager

            Ask your manager what success looks like at the end of the year, what they worry about, and how they prefer to hear bad news. Write down what you agreed and send it to them. Many new managers discover months later that they were optimising for something nobody above them cared about.

            ### Play the themes back to the team

            Share what you heard, without naming who said what. Pick two or three themes to work on and explain why you chose those and not others. People will forgive you for not fixing everything; they will not forgive you for pretending you did not hear it.

            ## Days 61 to 90: act

            In the third month, make a small number of visible changes that the team itself asked for. Early wins should be modest and reversible: a meeting cut, a report simplified, a decision finally made after months of drift.

            ### Choose changes the team can see

            The best first changes remove an irritation that everyone recognises. They show that listening led somewhere, which makes the next, harder conversation easier.

            ### Build your own routines

            Settle into a rhythm you can keep: a weekly team meeting with a clear purpose, regular one-to-ones that are rarely cancelled, and a short fortnightly note to your own manager. Routines are what make you predictable, and predictability is much of what people mean when they say they trust a manager.

            ## At ninety days: take stock

            Look back at your notes from the first month. Which themes have you acted on, and which are still waiting? Ask two or three people you trust for honest feedback on how you have come across. Then write yourself a short plan for the next quarter, and share the parts that concern the team with the team.
            """
        ).strip(),
    },
    # ------------------------------------------------------------------
    {
        "title": "Meetings That Actually Decide Things",
        "slug": "meetings-that-decide",
        "topic": "productivity",
        "author": "priya-halloway",
        "reviewer": None,
        "visibility": "public",
        "featured": True,
        "days_ago": 2,
        "summary": (
            "Too many meetings end with a promise to pick it up next week. A clear question, "
            "fewer people and a named decision-maker turn talking into deciding."
        ),
        "seo_description": (
            "Run meetings that end in decisions: phrase each agenda item as a question, "
            "invite fewer people and name who decides before the talking starts."
        ),
        "intro": dedent(
            """
            Ask a room of managers how many of last week's meetings ended with a clear decision and you will usually hear an embarrassed laugh. Meetings drift. The discussion is lively, everyone contributes, and then someone glances at the clock and suggests picking it up next week. The same topic returns, the same people attend, and the decision waits for a meeting that never quite happens.

            Meetings are not the problem in themselves. A well-run meeting is still the fastest way for a group to weigh options and commit to one. The trouble lies with meetings that never state what they are for, or who gets to decide once the conversation is finished.
            """
        ).strip(),
        "body": dedent(
            """
            ## Write the question, not the topic

            An agenda item that says "Q3 marketing" invites a tour of everything anyone has ever thought about marketing. An item that says "Decide whether to move the autumn campaign budget from print to events" invites a decision. Before you send the invitation, rewrite each item as a question that can actually be answered, and if you cannot do that, consider whether the item needs a meeting at all or simply an update by email.

            ## Invite fewer people

            Every extra person in the room adds opinions, and it also weakens the sense that any one person is responsible for the outcome. As a rough guide, include:

            1. The person who will make the decision.
            2. The two or three people whose expertise the decision genuinely needs.
            3. Anyone who will have to carry out the result and could spot a practical flaw.

            Everyone else can read the outcome afterwards. Most people are quietly relieved to be told they need not attend, provided they trust that they will be kept informed.

            ## Name the decision-maker

            Consensus is lovely when it happens, but waiting for it is one of the main reasons meetings end without a result. Say at the start who will decide, and how: "We will hear the options, and then Amira will make the call before we finish." People tend to argue more openly when they know the discussion is input rather than a vote, because disagreeing no longer feels like blocking the whole group.

            > The question at the end of a good meeting is never "what do we think?" but "what have we decided, and who does what next?"

            ## Record it in one place

            Spend the last five minutes reading back the decision, the actions and their owners. Write them into a single shared decision log that the whole team can find, rather than scattering them across private notebooks and chat threads. When the same question comes up again next month, you can point to the log instead of reopening the debate from the beginning.

            Finally, end early when you can. A meeting booked for an hour that finishes after thirty-five minutes with a clear decision is not a failure of planning. It is a small gift of time back to everyone who attended, and people will soon notice that your meetings are worth turning up to.
            """
        ).strip(),
    },
    # ------------------------------------------------------------------
    {
        "title": "Delegating Without Disappearing",
        "slug": "delegating-without-disappearing",
        "topic": "leadership",
        "author": "imogen-castellane",
        "reviewer": "rhodri-pennant",
        "visibility": "premium",
        "featured": True,
        "days_ago": 5,
        "summary": (
            "Delegation fails in two directions: hovering over every detail, or handing work "
            "over and vanishing. A clear middle path keeps ownership where it belongs."
        ),
        "seo_description": (
            "Delegate well as a manager: choose the right tasks, agree how much authority you "
            "are handing over and set check-ins before the work begins."
        ),
        "intro": dedent(
            """
            Most managers know they should delegate more. The trouble is that delegation tends to fail in one of two opposite ways. Some managers hand a task over and then hover, checking every draft and quietly redoing parts of it, until the other person wonders why they were asked at all. Others pass work on with a cheerful "shout if you need anything" and are not seen again until the deadline arrives.

            Both patterns come from the same gap: nobody agreed what handing over actually meant. Good delegation is a short, explicit conversation about outcome, authority and support, followed by the discipline to let someone else do the work their own way.
            """
        ).strip(),
        "body": dedent(
            """
            ## Choose what to hand over

            Start with tasks that someone else could already do at least eighty per cent as well as you, and that would stretch them in a useful direction. Recurring work is ideal, because the time you invest in explaining it pays back every month. Keep hold of anything genuinely confidential, anything that involves managing a person's performance, and anything you would be embarrassed to admit you were passing on simply to avoid it.

            ## Agree the level of authority

            The most common source of frustration is ambiguity about who decides. Before the work begins, say clearly which of these levels you mean:

            1. Look into it and report back; I will decide.
            2. Recommend an option, and I will usually agree.
            3. Decide, then tell me what you chose.
            4. Decide and act; there is no need to tell me unless something goes wrong.

            Being explicit about whether a colleague is gathering options or making the final call removes most of the second-guessing that makes delegation feel like a trap for the person receiving it. You can raise the level as trust grows, and it is perfectly reasonable to start at level two and move to level three after a successful first round.

            ## Set check-ins before you start

            Hovering happens when a manager feels anxious and has no agreed way of finding out how things are going. Remove the anxiety by booking the checkpoints during the handover itself: perhaps a short look at the outline after two days and a review of the near-final version a week before the deadline. Between those points, stay out of the way unless you are asked.

            > Agree when you will look at the work, and then genuinely do not look at it in between.

            ## Resist taking it back

            At some point the work will be done differently from how you would have done it. Before you step in, ask yourself whether the result is actually worse or merely unfamiliar. If it is unfamiliar, leave it alone. If it is worse, coach rather than correct: point to the problem, ask how they might tackle it, and let them make the change themselves.

            Finally, give credit in public. When a piece of delegated work goes well, make sure the people who matter know whose work it was. Nothing encourages people to volunteer for stretching tasks quite like seeing that doing so gets noticed.
            """
        ).strip(),
    },
    # ------------------------------------------------------------------
    {
        "title": "Running One-to-Ones People Actually Look Forward To",
        "slug": "one-to-ones-people-look-forward-to",
        "topic": "growing-people",
        "author": "tobias-renwick",
        "reviewer": "rhodri-pennant",
        "visibility": "premium",
        "featured": True,
        "days_ago": 8,
        "summary": (
            "A one-to-one can be the most valuable half hour in a manager's week, yet many drift "
            "into status updates. Here is how to give the meeting back to the person it is for."
        ),
        "seo_description": (
            "Make one-to-ones worth attending: let your report own the agenda, ask questions "
            "that open things up and protect the slot when your diary fills."
        ),
        "intro": dedent(
            """
            Most managers agree that regular one-to-ones matter. Far fewer can say, hand on heart, that theirs are working. The meeting slips when the diary gets crowded, shrinks to fifteen minutes, and slowly turns into a status update that could have been a message in the team channel. Nobody decides to let this happen; it simply erodes.

            The fix is not a cleverer template. It is a change in whose meeting it is. When the person you manage owns the agenda, and you own the quality of your attention, a one-to-one becomes the place where problems surface early, ambitions get spoken aloud and small frustrations are dealt with before they harden into resignation letters.
            """
        ).strip(),
        "body": dedent(
            """
            ## Give the agenda away

            Ask your report to bring the first two items every time. At the start this can feel awkward, and you may get silence or a polite "nothing much". Keep asking. Within a few weeks most people learn that the time genuinely belongs to them, and the topics become far more useful than anything you would have chosen. Keep a shared running document so that both of you can add points during the week as they occur, rather than trying to remember them on the day.

            Your own items go last. If something of yours is urgent, say so at the start and agree how long it will take, so that it does not quietly swallow the whole conversation.

            ## Ask better questions

            Status questions about where a project has got to have their place, but they belong in project reviews. In a one-to-one, try questions that open things up:

            - What has taken more energy than it should have this week?
            - Is there anything you are waiting on me for?
            - What would you like to be doing more of in six months' time?
            - What is one thing I could do differently that would make your work easier?

            The last question is the hardest to ask and the most valuable to hear answered honestly. Expect a guarded reply the first time, and thank the person sincerely whatever they say, because the way you receive a small criticism today decides whether you will ever hear about a large one.

            ## Protect the slot

            Moving a one-to-one once is fine. Moving it three times in a row sends a clear message about where the person sits in your priorities, whatever you intend. Treat the slot as you would a meeting with your own director: if it really must move, rebook it yourself for the same week before you cancel the original.

            > A cancelled one-to-one costs thirty minutes on the calendar and a great deal more in trust.

            ## Close the loop

            End each meeting by reading back any actions, with a name against each one. Next time, begin by checking them off. This small ritual shows that what was said last time was heard and acted upon, and over a year it builds a record of support, progress and decisions that makes appraisals far easier for both of you. If an action of yours has slipped, say so plainly rather than hoping it goes unnoticed; owning your own misses gives your team permission to own theirs.
            """
        ).strip(),
    },
    # ------------------------------------------------------------------
    {
        "title": "Feedback That Lands: A Practical Guide for New Managers",
        "slug": "feedback-that-lands",
        "topic": "communication",
        "author": "priya-halloway",
        "reviewer": "sunniva-hallett",
        "visibility": "premium",
        "featured": False,
        "days_ago": 12,
        "summary": (
            "Feedback only helps if the other person can hear it. A simple structure, better "
            "timing and a genuinely two-way conversation make all the difference."
        ),
        "seo_description": (
            "Give feedback that people can use: describe what you saw, explain why it mattered "
            "and agree a next step, soon enough for it to make a difference."
        ),
        "intro": dedent(
            """
            New managers often discover that giving feedback is harder than receiving it. You want to be honest without crushing anyone, clear without sounding like a disciplinary letter, and kind without being so vague that nothing changes. So the conversation gets postponed until Friday, then until after the deadline, and then the moment has passed altogether.

            Good feedback is less about courage than about craft. When you describe what you saw rather than what you assume, connect it to a consequence that matters and then genuinely listen, most people take it well. The aim is not to deliver a verdict. It is to give someone information they can use, at a time when they can still use it.
            """
        ).strip(),
        "body": dedent(
            """
            ## Describe, don't diagnose

            The quickest way to make someone defensive is to tell them what kind of person they are. "You're careless" invites an argument. "The figures in Tuesday's client report didn't match the spreadsheet in two places" invites a fix. Stick to behaviour you observed directly, name the specific occasion, and leave out words such as "always" and "never", which turn a single incident into a judgement about character.

            A simple structure helps when you are nervous:

            1. The situation: when and where it happened.
            2. The behaviour: what the person actually said or did.
            3. The impact: what it meant for the client, the team or the work.
            4. The next step: a question about their view, followed by an agreement.

            That last step matters most. Ask "How did it look from your side?" and mean it. Sometimes you will learn about a missing handover or an impossible deadline, and the feedback you needed to give turns out to be feedback for yourself.

            ## Get the timing right

            Feedback loses value with every day it waits. Aim for within forty-eight hours, in private, and at a moment when neither of you is rushing off to another meeting. Avoid delivering it at five o'clock on a Friday, when the person has a whole weekend to turn a two-minute comment into an anxious story about their future at the company.

            Do not save everything up for the annual review. Nothing in a formal appraisal should come as a surprise; if it does, the feedback was late.

            ## Make praise specific too

            Positive feedback is not a softener to wrap around criticism. It is information in its own right, and it tells people which behaviours to repeat. "Great job" is pleasant but forgettable. "The way you summarised the options in the first minute meant the steering group reached a decision before lunch" is something a person can deliberately do again.

            > If people only hear from you when something has gone wrong, they will start to dread hearing from you at all.

            ## Check that it landed

            Close by asking the other person to summarise what they will do next. It can feel a little formal, but it catches misunderstandings before they grow, and it turns a passing comment into a commitment that you can both look back on at your next one-to-one.
            """
        ).strip(),
    },
    # ------------------------------------------------------------------
    {
        "title": "Prioritising When Everything Is Urgent",
        "slug": "prioritising-when-everything-is-urgent",
        "topic": "productivity",
        "author": "tobias-renwick",
        "reviewer": "sunniva-hallett",
        "visibility": "members",
        "featured": False,
        "days_ago": 17,
        "summary": (
            "When every request arrives marked urgent, a manager's job is to make the trade-offs "
            "visible. A short weekly routine helps you and your team focus on what matters."
        ),
        "seo_description": (
            "Prioritise when every request is urgent: separate loud from important, sort the "
            "week in twenty minutes and make trade-offs visible to the people asking."
        ),
        "intro": dedent(
            """
            There is a particular kind of week that every manager recognises. Three senior colleagues each send a request marked urgent, a customer escalation lands on Tuesday morning, and the project you promised to finish by the end of the month has not moved since Monday. By Thursday you are busy from eight until six and cannot name one thing that truly got done.

            Prioritising is not about working faster or finding a better to-do app. It is about making choices, saying those choices out loud and helping the people around you understand what will wait. Once the trade-offs are visible, most urgent requests turn out to be negotiable.
            """
        ).strip(),
        "body": dedent(
            """
            ## Separate loud from important

            Urgency describes how soon someone wants something. Importance describes how much it matters to your team's goals. The two overlap far less than the volume of your inbox suggests. When a request arrives, ask yourself two plain questions: what happens if this waits a week, and which of our objectives does it move forward? A surprising number of requests fail both tests.

            ## Run a weekly sort

            Spend twenty minutes every Monday morning, before opening your messages, sorting the week's work into four groups:

            - Must happen this week, and only I can do it.
            - Must happen this week, and someone else could do it.
            - Matters, but can wait without real harm.
            - Nobody would notice if it quietly stopped.

            The second group is your delegation list. The fourth is your permission to drop things, and it is usually longer than people expect: reports nobody reads, meetings kept out of habit, and updates duplicated in three different places.

            ## Make trade-offs visible

            When a new request arrives mid-week, resist the urge to absorb it silently. Instead, reply with the trade-off: "I can do this by Thursday, but it means the pricing review slips to next week. Which would you prefer?" This is not being difficult. It gives the person asking the information they need to make a sensible decision, and it stops your team carrying an invisible overload that nobody above you ever sees.

            > A manager who never says no is not protecting the team; they are spending its time without telling it.

            ## Protect your team's focus

            Your priorities set the weather for everyone who reports to you. If you redirect people every time a new request arrives, they learn that plans do not matter and stop making them. Agree a small number of team priorities each week, write them somewhere visible, and when something new turns up, ask whether it genuinely replaces one of them. If it does, say which one is being dropped, so that nobody is left trying to deliver five top priorities at once.

            Finally, review the week on Friday afternoon. Look at what you planned and what actually happened, without judgement, and notice where the time went. Patterns appear quickly, and they tell you which kinds of request to challenge earlier next time.
            """
        ).strip(),
    },
    # ------------------------------------------------------------------
    {
        "title": "Leading a Team Through Change You Didn't Choose",
        "slug": "leading-through-change-you-didnt-choose",
        "topic": "leadership",
        "author": "imogen-castellane",
        "reviewer": "sunniva-hallett",
        "visibility": "premium",
        "featured": False,
        "days_ago": 23,
        "summary": (
            "Sometimes a manager must carry a decision made above them. Honesty about what you "
            "know, room for reactions and small visible steps help a team move forward."
        ),
        "seo_description": (
            "Lead your team through a change you did not choose: be honest about what you know, "
            "make room for reactions and create early, visible progress."
        ),
        "intro": dedent(
            """
            Few moments test a manager like the one where senior leadership announces a restructure, a new system or a change of direction, and you are expected to champion it to your team before you have fully made sense of it yourself. You may have doubts. You may even have argued against it. Now you are the person everyone turns to for answers.

            Leading through change you did not choose is not about pretending to be enthusiastic. People see through performed optimism very quickly. It is about being honest, steady and useful: explaining what you know, admitting what you do not, and helping your team find solid ground while the picture is still unclear.
            """
        ).strip(),
        "body": dedent(
            """
            ## Be honest about what you know

            Your team will fill any gap in information with their own worst-case theories. Get ahead of that by sharing what you can as early as you can, in three plain categories: what has been decided, what is still being worked out, and when you expect to know more. Saying "I don't know yet, and I will tell you by the end of the month" is far more reassuring than a confident answer you later have to withdraw.

            You do not have to pretend you agreed with the decision. You can say that you raised concerns, that they were heard, and that you are now committed to making it work. That combination of candour and commitment earns more respect than either would alone.

            ## Make room for reactions

            People respond to change at different speeds and in different ways. Some will be excited, some anxious, some quietly angry, and a few will seem unaffected until weeks later. Give each of them space:

            - Hold a team session to share the news, then follow up individually within a few days.
            - Ask what each person is most concerned about, and write it down.
            - Resist the temptation to argue people out of their feelings.
            - Come back with answers to the concerns you can address, and be straight about those you cannot.

            > Resistance is often grief for the way things used to work, and it fades faster when it is acknowledged than when it is argued with.

            ## Create early, visible progress

            Long periods of uncertainty drain energy from even the most resilient team. Break the change into small steps that people can complete and see within the first few weeks, such as trying the new process on a single project or tidying up the data before a system migration. Celebrate those steps deliberately, even when they are modest, because they prove that the change is survivable and that the team has some control over how it unfolds.

            ## Look after yourself

            Carrying a difficult message is tiring, particularly when you share some of your team's doubts. Find a peer, a mentor or your own manager to talk to honestly, so that you are not processing everything alone while trying to look composed in front of everyone else. A steady manager is not one who feels no uncertainty, but one who has somewhere sensible to put it.
            """
        ).strip(),
    },
    # ------------------------------------------------------------------
    {
        "title": "Handling Conflict Between Two Good People",
        "slug": "handling-conflict-between-good-people",
        "topic": "leadership",
        "author": "tobias-renwick",
        "reviewer": "rhodri-pennant",
        "visibility": "premium",
        "featured": False,
        "days_ago": 31,
        "summary": (
            "When two capable colleagues clash, ignoring it rarely works. A calm, structured "
            "approach helps them move from blame to a working agreement."
        ),
        "seo_description": (
            "Resolve conflict between two capable colleagues: step in early, meet each person "
            "separately first, then focus on interests rather than positions."
        ),
        "intro": dedent(
            """
            Conflict between people who are struggling in their roles is, in a strange way, easier to handle. The harder situation is when two capable, committed colleagues simply cannot work together. One thinks the other is reckless; the other thinks the first is obstructive. Both have a point, and both matter to the team.

            Many managers hope that kind of tension will settle down on its own. Occasionally it does. More often it leaks into meetings, splits the wider team into camps and quietly slows everything down. Stepping in early, calmly and fairly is kinder to everyone involved, including the two people at the centre of it.
            """
        ).strip(),
        "body": dedent(
            """
            ## Act before it hardens

            The best time to address friction is when you first notice a pattern, not when someone finally comes to you upset or threatens to leave. Signs include sarcastic comments in meetings, work routed awkwardly to avoid one person, and team members who start asking you privately whether something is going on. Early intervention can be as light as a quiet question; late intervention usually needs a formal process.

            ## Meet separately first

            Before bringing the two together, talk to each person alone. Your aim in these conversations is to understand, not to judge:

            1. Ask them to describe a recent, specific situation rather than their general opinion of the other person.
            2. Ask what they needed in that moment and did not get.
            3. Ask how they think the other person would describe the same event.
            4. Ask what a workable relationship would look like to them.

            The third question is often revealing. People who can describe the other side's view fairly are usually ready for a joint conversation, while those who cannot may need more time, or some coaching, first.

            ## Focus on interests, not positions

            When you bring them together, set simple ground rules: one person speaks at a time, describe behaviour rather than character, and the goal is a working agreement rather than a verdict on who was right. Then steer the conversation away from positions ("She has to stop changing the plan") and towards interests ("I need to hear about changes early enough to update the client"). Positions collide; interests can usually both be met.

            > You are not there to decide who was right; you are there to help two people agree how they will work together from Monday onwards.

            ## Write down the agreement

            End with a short, practical list of what each person will do differently, such as flagging schedule changes by Wednesday or reviewing each other's drafts within two working days. Keep it specific enough that both can tell whether it is being kept. Book a follow-up for a fortnight later, and in the meantime notice and acknowledge any effort either of them makes.

            If the pattern continues despite a clear agreement, it has become a performance matter, and you should treat it as one. In most cases, though, two good people who feel genuinely heard will find a way of working together that surprises them both.
            """
        ).strip(),
    },
    # ------------------------------------------------------------------
    {
        "title": "The First Ninety Days: Onboarding That Builds Belonging",
        "slug": "onboarding-that-builds-belonging",
        "topic": "growing-people",
        "author": "imogen-castellane",
        "reviewer": "rhodri-pennant",
        "visibility": "members",
        "featured": False,
        "days_ago": 44,
        "summary": (
            "New starters decide remarkably quickly whether they made the right choice. A "
            "thoughtful first ninety days turns a nervous arrival into a confident contributor."
        ),
        "seo_description": (
            "Plan a new starter's first ninety days: prepare before day one, give real work "
            "early, pair them with a buddy and check in more often than feels necessary."
        ),
        "intro": dedent(
            """
            New starters make up their minds about a job remarkably quickly. Within the first few weeks they have formed a view about whether they made the right decision, whether their manager has time for them and whether they will be able to do good work here. That view is hard to shift later, however good the role turns out to be.

            Yet onboarding is often treated as an administrative task: a laptop, a login and a pile of policies to read. Those things matter, but they are not what makes someone feel they belong. Belonging comes from people, purpose and early proof that their contribution counts.
            """
        ).strip(),
        "body": dedent(
            """
            ## Before day one

            The welcome begins before the new starter walks through the door. A short message from you in the week before they join, explaining what the first day will look like and who they will meet, removes a great deal of anxiety. Make sure equipment, accounts and building access are ready in advance, because nothing says "we forgot you were coming" quite like spending a first morning waiting for a password.

            Tell the team who is joining, what they will work on and what they bring. Ask one or two people to invite the new colleague for coffee or lunch during the first week.

            ## Give meaningful work early

            Reading documents for a fortnight is dispiriting. Within the first week, give the new starter a small, real piece of work that matters to someone, with a clear outcome and a friendly person to ask for help. Early contribution does more for confidence than any amount of induction material.

            A simple shape for the first three months might look like this:

            - First month: learn how the team works, meet key colleagues and complete two or three small tasks from start to finish.
            - Second month: take ownership of a defined piece of ongoing work, with regular support.
            - Third month: suggest an improvement to something, and agree goals for the following six months.

            ## Assign a buddy

            A buddy is not a manager or a mentor. It is a peer who can answer the questions new starters feel awkward asking their boss, such as which meetings are optional, how people really prefer to be contacted and where the good coffee is. Choose someone patient, explain clearly what you are asking of them, and recognise the time it takes.

            > People rarely leave in their first year because the work was too hard; they leave because they never felt they had found their place.

            ## Check in more often than feels necessary

            In the first month, hold a short conversation every week rather than waiting for the usual one-to-one rhythm to settle in. Ask what has surprised them, what still feels confusing and what they wish someone had told them sooner. Write the answers down, because they are the best possible material for improving the experience of the next person you hire. At the ninety-day mark, look back together at how far they have come, and say plainly what they have already added to the team.
            """
        ).strip(),
    },
    # ------------------------------------------------------------------
    {
        "title": "Writing Clearly for Busy Colleagues",
        "slug": "writing-clearly-for-busy-colleagues",
        "topic": "communication",
        "author": "priya-halloway",
        "reviewer": None,
        "visibility": "public",
        "featured": False,
        "days_ago": 58,
        "summary": (
            "Your colleagues skim. Leading with the point, cutting the padding and making "
            "requests explicit will get your messages read and acted on."
        ),
        "seo_description": (
            "Write emails and updates that busy colleagues actually read: put the point first, "
            "make every request explicit and cut words that add nothing."
        ),
        "intro": dedent(
            """
            Managers write all day: emails, updates, proposals, messages in team channels and notes after meetings. Much of it is read on a phone between other tasks, and much of it is skimmed rather than read at all. If the key point is buried in the fourth paragraph, a good many readers will never reach it.

            Clear writing is not about elegant prose or an impressive vocabulary. It is about respecting your reader's time and making it easy for them to understand what you need. The habits that help are simple, and once you start using them you will notice quicker replies, fewer follow-up questions and far fewer misunderstandings.
            """
        ).strip(),
        "body": dedent(
            """
            ## Lead with the point

            Put the most important thing first. If you need a decision, say so in the opening line. If you are sharing news, state it before the background. A useful test is to imagine that the reader only sees the preview on their lock screen: would they know what the message is about and whether they need to act?

            Subject lines deserve the same care. "Update" tells the reader nothing. "Decision needed by Thursday: supplier for the office move" tells them almost everything.

            ## Make requests explicit

            Many messages fail because the writer knows what they want but never actually asks for it. Be specific about three things:

            1. What you need the reader to do.
            2. When you need it by.
            3. What will happen if you do not hear back.

            "Could you approve the revised budget by noon on Friday? If I have not heard by then, I will go ahead with the original figures." A request like that leaves no room for confusion, and it quietly removes the need for a chasing email later in the week.

            ## Use structure to help skimmers

            Short paragraphs, informative headings and bulleted lists make longer messages far easier to navigate. Put each separate question in its own numbered point so that replies can refer to them directly. Bold text can help, but use it sparingly; if everything is emphasised, nothing is.

            > Write the message you would want to receive on a busy Tuesday afternoon, read on a phone while walking between two meetings.

            ## Cut what adds nothing

            Once you have a draft, read it again with a single question in mind: does this sentence help the reader? A phrase such as "I just wanted to reach out to touch base regarding" can usually become a simple "About". Apologetic padding, repeated context and long sign-offs add reading time without adding meaning. As a rough guide, most first drafts can lose a quarter of their words and become clearer as a result.

            Finally, match the channel to the message. Quick questions suit chat; decisions and anything that needs a record suit email or a shared document; and anything sensitive, or likely to upset someone, deserves a conversation first, with writing afterwards to confirm what was agreed.
            """
        ).strip(),
    },
]


# The demo's one attachment: a worksheet for the one-to-ones guide (premium), written below as
# a PDF by hand, so the demo needs no PDF library and no binary file in the repository.
WORKSHEET = {
    "article": "one-to-ones-people-look-forward-to",
    "title": "One-to-one preparation worksheet",
    "filename": "one-to-one-worksheet.pdf",
    "lines": [
        "One-to-one preparation worksheet",
        "",
        "Before the meeting (10 minutes)",
        "1. What has changed for them since we last met?",
        "2. What did I promise last time, and did I do it?",
        "3. One thing I noticed them do well this fortnight:",
        "",
        "In the meeting: their agenda first",
        "4. What is on your mind this week?",
        "5. What is getting in your way, and how can I help?",
        "6. What would you like more (or less) of from me?",
        "",
        "Afterwards",
        "7. What did we agree, who does it, and by when?",
    ],
}


def worksheet_pdf(lines: list[str]) -> bytes:
    """A one-page PDF (1.4) showing `lines` in Helvetica: the least a valid PDF needs, with the
    cross-reference table's byte offsets worked out, so any reader opens it."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = ["BT", "/F1 12 Tf", "16 TL", "72 770 Td"]
    text += [f"({escape(line)}) '" for line in lines]
    text.append("ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)
