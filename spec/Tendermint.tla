----------------------------- MODULE Tendermint -----------------------------
(***************************************************************************)
(* The TLA+ twin of bftcheck's Python model (model/tendermint.py): the      *)
(* Tendermint consensus algorithm, Algorithm 1 of arXiv:1807.04938 ("The   *)
(* latest gossip on BFT consensus", November 2019 revision).  Line numbers  *)
(* in comments refer to Algorithm 1, as in the Python model.               *)
(*                                                                         *)
(* It is the same state machine, variable for variable, so TLC must find   *)
(* exactly as many distinct states as bftcheck:                            *)
(*                                                                         *)
(*  - one pool of sent messages, no delivery action: every rule is an      *)
(*    "upon" guard monotone in the messages received (see the docstring of  *)
(*    model/tendermint.py for why this is exact);                          *)
(*  - Byzantine messages enter the state only when a correct validator     *)
(*    first acts on them, as minimal draws within a budget                 *)
(*    (model/byzantine.py); never a SUBSET of faulty messages in Init;     *)
(*  - a rule records the decision it took, not the messages behind it;     *)
(*  - after its last height a validator halts in a canonical state.        *)
(*                                                                         *)
(* Validators are p1..pN, numbered 1..N here; the last F are Byzantine.    *)
(* Heights and rounds count from 0, as in the paper.                       *)
(***************************************************************************)
EXTENDS Integers, FiniteSets, Sequences

CONSTANTS
    N,            \* number of validators p1..pN
    F,            \* the last F validators are Byzantine
    Power,        \* Power[i]: the voting power of p_i
    NHeights,     \* heights 0..NHeights-1
    NRounds,      \* rounds 0..NRounds-1
    ValidValues,  \* the values valid() accepts: {"v0", "v1", ...}
    Budget,       \* how many Byzantine messages correct validators may act on
    Mutant,       \* "none", or the name of a known-unsafe variant (model/mutants.py)
    Splits,       \* the configured splits, <<>> without partitions: Splits[k] is a set of
                  \* components, each a set of validators (model/network.py)
    MaxPartitions, \* how many split and heal events one run may contain
    GST           \* partial synchrony: the round of height 0 from which the network is
                  \* synchronous (model/synchrony.py); -1 for an asynchronous network

Validators == 1..N
Corr == 1..(N - F)
Byz == (N - F + 1)..N
Heights == 0..(NHeights - 1)
Rounds == 0..(NRounds - 1)

NoMsg == "none"          \* a message slot nobody filled yet
Nil == "nil"
Invalid == "x"           \* the one value valid() rejects; only a Byzantine proposer sends it
Proposable == ValidValues \cup {Invalid}
Steps == {"propose", "prevote", "precommit"}

\* valid(v) of Algorithm 1; the accept-invalid mutant accepts everything.
Valid(v) == Mutant = "accept-invalid" \/ v /= Invalid

\* Byzantine votes carry nil or the id of a value valid() accepts: a vote for
\* x counts only where any vote counts (model/state.py, Layout.byz_vote_codes).
ByzVoteValues == {Nil} \cup ValidValues \cup (IF Mutant = "accept-invalid" THEN {Invalid} ELSE {})

RECURSIVE PowerOf(_)
PowerOf(S) == IF S = {} THEN 0 ELSE LET i == CHOOSE j \in S : TRUE IN Power[i] + PowerOf(S \ {i})

Total == PowerOf(Validators)
ByzPower == PowerOf(Byz)

\* 2f + 1: more than 2/3 of the power (weak-quorum: half of it).
Quorum(p) == IF Mutant = "weak-quorum" THEN 2 * p >= Total ELSE 3 * p > 2 * Total
\* f + 1 (line 55): more than 1/3 of the power.
Skip(p) == 3 * p > Total

\* Round-robin proposer rotation: proposer(h, r) = p_((h + r) mod n).
Proposer(h, r) == ((h + r) % N) + 1

NoProposal == [value |-> NoMsg, validRound |-> -1]

\* Partitions (model/network.py). Network state 0 is the whole network, k > 0
\* is split Splits[k]. Peers(k, i): who shares a component with p_i.
Partitioned == Splits /= <<>>
Peers(k, i) == IF k = 0 THEN Validators ELSE UNION {comp \in Splits[k] : i \in comp}

\* Block sync accepts a commit certificate of more than 2/3 of the power
\* (unverified-sync: more than 1/3).
Certifies(p) == IF Mutant = "unverified-sync" THEN 3 * p > Total ELSE Quorum(p)

VARIABLES
    \* the local variables of each correct validator (lines 2-8)
    height,        \* 0..NHeights-1 while working, NHeights once every height is decided
    round,
    step,
    lockedValue,   \* Nil when not locked
    lockedRound,   \* -1 when not locked
    validValue,
    validRound,
    decision,      \* decision[c][h]: the ledger, Nil where undecided
    \* messages of correct validators: one prevote and one precommit per
    \* (validator, height, round), NoMsg until sent; the correct proposer's proposal
    prevote,
    precommit,
    proposal,      \* proposal[h][r]: [value, validRound], NoProposal until sent
    \* Byzantine messages correct validators acted on (model/byzantine.py)
    byzPrevote,    \* byzPrevote[b][h][r]: the set of values p_b prevoted
    byzPrecommit,
    byzProposal,   \* byzProposal[h][r]: the set of [value, validRound] of a Byzantine proposer
    byzantineUsed, \* how many of them (at most Budget)
    \* with partitions: the validators each correct message has reached, kept
    \* closed under gossip ({} everywhere without partitions)
    prevoteReach,  \* prevoteReach[c][h][r]
    precommitReach,
    proposalReach, \* proposalReach[h][r], for a correct proposer
    net,           \* 0 the whole network, k split Splits[k]
    events         \* split and heal events so far

local == <<height, round, step, lockedValue, lockedRound, validValue, validRound, decision>>
byzVars == <<byzPrevote, byzPrecommit, byzProposal, byzantineUsed>>
reachVars == <<prevoteReach, precommitReach, proposalReach>>
vars == <<local, prevote, precommit, proposal, byzVars, reachVars, net, events>>

TypeOK ==
    /\ height \in [Corr -> 0..NHeights]
    /\ round \in [Corr -> Rounds]
    /\ step \in [Corr -> Steps]
    /\ lockedValue \in [Corr -> Proposable \cup {Nil}]
    /\ lockedRound \in [Corr -> -1..(NRounds - 1)]
    /\ validValue \in [Corr -> Proposable \cup {Nil}]
    /\ validRound \in [Corr -> -1..(NRounds - 1)]
    /\ decision \in [Corr -> [Heights -> Proposable \cup {Nil}]]
    /\ prevote \in [Corr -> [Heights -> [Rounds -> Proposable \cup {Nil, NoMsg}]]]
    /\ precommit \in [Corr -> [Heights -> [Rounds -> Proposable \cup {Nil, NoMsg}]]]
    /\ \A h \in Heights, r \in Rounds :
         proposal[h][r].value = NoMsg \/ Proposer(h, r) \in Corr
    /\ \A b \in Byz, h \in Heights, r \in Rounds :
         byzPrevote[b][h][r] \cup byzPrecommit[b][h][r] \subseteq ByzVoteValues
    /\ \A h \in Heights, r \in Rounds :
         byzProposal[h][r] = {} \/ Proposer(h, r) \in Byz
    /\ byzantineUsed \in 0..Budget
    /\ prevoteReach \in [Corr -> [Heights -> [Rounds -> SUBSET Validators]]]
    /\ precommitReach \in [Corr -> [Heights -> [Rounds -> SUBSET Validators]]]
    /\ proposalReach \in [Heights -> [Rounds -> SUBSET Validators]]
    /\ net \in 0..Len(Splits)
    /\ events \in 0..MaxPartitions

-----------------------------------------------------------------------------
(* Counting messages, and the minimal Byzantine draws (model/byzantine.py). *)

BudgetLeft == Budget - byzantineUsed

\* Whether `viewer` may act on a correct message that has reached `rch`:
\* always without partitions (Tally.sees).
Sees(viewer, rch) == ~Partitioned \/ viewer \in rch

Msgs(kind) == IF kind = "prevote" THEN prevote ELSE precommit
Reach(kind) == IF kind = "prevote" THEN prevoteReach ELSE precommitReach

\* Correct validators whose `kind` message at (h, r) carries v, as `viewer` sees them.
CorrectFor(kind, h, r, v, viewer) ==
    {c \in Corr : Msgs(kind)[c][h][r] = v /\ Sees(viewer, Reach(kind)[c][h][r])}

ByzMsgs(kind) == IF kind = "prevote" THEN byzPrevote ELSE byzPrecommit

\* Byzantine validators whose `kind` vote for v at (h, r) is already in the state.
ByzFor(kind, h, r, v) == {b \in Byz : v \in ByzMsgs(kind)[b][h][r]}

\* The draws under which `kind` messages for v at (h, r), as `viewer` sees
\* them, reach a quorum (`cert`: a commit certificate, Certifies): {{}}
\* when the state already has one, else every minimal set S of Byzantine
\* validators not yet voting v (no proper subset would do), of at most the
\* budget left. A larger set adds messages no step needs now; a later step can
\* still draw them, for the same budget. Tally.for_value.
Enough(p, cert) == IF cert THEN Certifies(p) ELSE Quorum(p)
DrawsFor(kind, h, r, v, viewer, cert) ==
    LET have == PowerOf(CorrectFor(kind, h, r, v, viewer) \cup ByzFor(kind, h, r, v))
        free == Byz \ ByzFor(kind, h, r, v)
    IN IF Enough(have, cert) THEN {{}}
       ELSE {S \in SUBSET free :
               /\ S /= {}
               /\ Cardinality(S) <= BudgetLeft
               /\ Enough(have + PowerOf(S), cert)
               /\ \A b \in S : ~Enough(have + PowerOf(S) - Power[b], cert)}
Draws(kind, h, r, v, viewer) == DrawsFor(kind, h, r, v, viewer, FALSE)

\* Lines 34 and 47, "2f + 1 <kind, h, r, *>": messages for any value. The
\* Byzantine validators always count, recording nothing (Tally.any_quorum).
AnyQuorum(kind, h, r, viewer) ==
    Quorum(ByzPower + PowerOf({c \in Corr : /\ Msgs(kind)[c][h][r] /= NoMsg
                                            /\ Sees(viewer, Reach(kind)[c][h][r])}))

\* Line 55, "f + 1 <*, h, r, *, *>": senders of any message of (h, r); the
\* Byzantine validators always count (Tally.round_skip).
RoundSkipQuorum(h, r, viewer) ==
    Skip(ByzPower + PowerOf({c \in Corr :
           \/ prevote[c][h][r] /= NoMsg /\ Sees(viewer, prevoteReach[c][h][r])
           \/ precommit[c][h][r] /= NoMsg /\ Sees(viewer, precommitReach[c][h][r])
           \/ /\ Proposer(h, r) = c /\ proposal[h][r].value /= NoMsg
              /\ Sees(viewer, proposalReach[h][r])}))

\* The proposals from proposer(h, r) a validator may act on: the correct
\* proposer's, once sent; for a Byzantine proposer any value with any
\* validRound below r, either already in the state (drawn = FALSE) or drawn
\* now. An invalid value never has a prevote quorum (unless valid() accepts
\* it), so only validRound -1 matters for it. TendermintModel._proposals.
ProposalOptions(h, r, viewer) ==
    IF Proposer(h, r) \in Corr
    THEN IF proposal[h][r].value = NoMsg \/ ~Sees(viewer, proposalReach[h][r]) THEN {}
         ELSE {[value |-> proposal[h][r].value, validRound |-> proposal[h][r].validRound,
                drawn |-> FALSE]}
    ELSE UNION {{[value |-> v, validRound |-> vr,
                  drawn |-> [value |-> v, validRound |-> vr] \notin byzProposal[h][r]] :
                   vr \in -1..(IF Valid(v) THEN r - 1 ELSE -1)} : v \in Proposable}

\* Options for "a proposal for v" (lines 36, 49): one already in the state
\* needs no draw, so then nothing is drawn (the validRound is not read there).
ProposalsFor(h, r, v, viewer) ==
    LET opts == {o \in ProposalOptions(h, r, viewer) : o.value = v}
    IN IF \E o \in opts : ~o.drawn
       THEN {[value |-> v, validRound |-> -1, drawn |-> FALSE]}
       ELSE opts

NoDraw == [value |-> NoMsg, validRound |-> -1, drawn |-> FALSE]

AddVotes(bv, S, h, r, v) ==
    [b \in Byz |-> IF b \in S THEN [bv[b] EXCEPT ![h][r] = @ \cup {v}] ELSE bv[b]]

\* Record the drawn Byzantine messages: the proposal option o of (ph, pr) if it
\* is drawn, and the `kind` votes of S for v at (h, r); within the budget
\* (TendermintModel._successor, byzantine.apply_draw).
TakeDraw(o, ph, pr, kind, S, h, r, v) ==
    LET cost == (IF o.drawn THEN 1 ELSE 0) + Cardinality(S)
    IN /\ cost <= BudgetLeft
       /\ byzProposal' = IF o.drawn
                         THEN [byzProposal EXCEPT ![ph][pr] =
                                 @ \cup {[value |-> o.value, validRound |-> o.validRound]}]
                         ELSE byzProposal
       /\ byzPrevote' = IF kind = "prevote" /\ S /= {}
                        THEN AddVotes(byzPrevote, S, h, r, v) ELSE byzPrevote
       /\ byzPrecommit' = IF kind = "precommit" /\ S /= {}
                          THEN AddVotes(byzPrecommit, S, h, r, v) ELSE byzPrecommit
       /\ byzantineUsed' = byzantineUsed + cost

\* Gossip (model/network.py). A correct message reaches its sender's
\* component when sent; after every step its reach is closed under gossip: a
\* correct holder working at the message's height (any height under
\* regossip-all-heights) passes it to everyone it shares a component with.
\* Once every correct validator has left a height, who saw its messages no
\* longer matters and their reach is forgotten (set to everyone), so states
\* that differ only there are one state (Network.settle).

\* A step's new correct messages with the reach they are sent to, and block
\* sync's gain: the syncing validator g.who now holds the certificate's
\* precommits, those of g.held at (g.h, g.r).
NoGain == [who |-> 0, h |-> 0, r |-> 0, held |-> {}]
SentReach(g) ==
    [pv |-> [c \in Corr |-> [h \in Heights |-> [r \in Rounds |->
               IF prevote[c][h][r] = NoMsg /\ prevote'[c][h][r] /= NoMsg
               THEN Peers(net, c) ELSE prevoteReach[c][h][r]]]],
     pc |-> [c \in Corr |-> [h \in Heights |-> [r \in Rounds |->
               (IF precommit[c][h][r] = NoMsg /\ precommit'[c][h][r] /= NoMsg
                THEN Peers(net, c) ELSE precommitReach[c][h][r])
               \cup (IF c \in g.held /\ h = g.h /\ r = g.r THEN {g.who} ELSE {})]]],
     pr |-> [h \in Heights |-> [r \in Rounds |->
               IF proposal[h][r].value = NoMsg /\ proposal'[h][r].value /= NoMsg
               THEN Peers(net, Proposer(h, r)) ELSE proposalReach[h][r]]]]

\* One round of gossip in network state k, after the step (heights, messages primed).
Spread(rch, h, k) ==
    rch \cup UNION {Peers(k, q) : q \in {p \in Corr \cap rch :
                                         Mutant = "regossip-all-heights" \/ height'[p] = h}}
GossipOnce(R, k) ==
    [pv |-> [c \in Corr |-> [h \in Heights |-> [r \in Rounds |->
               IF prevote'[c][h][r] = NoMsg THEN R.pv[c][h][r] ELSE Spread(R.pv[c][h][r], h, k)]]],
     pc |-> [c \in Corr |-> [h \in Heights |-> [r \in Rounds |->
               IF precommit'[c][h][r] = NoMsg THEN R.pc[c][h][r]
               ELSE Spread(R.pc[c][h][r], h, k)]]],
     pr |-> [h \in Heights |-> [r \in Rounds |->
               IF proposal'[h][r].value = NoMsg THEN R.pr[h][r]
               ELSE Spread(R.pr[h][r], h, k)]]]
RECURSIVE Closure(_, _)
Closure(R, k) == LET G == GossipOnce(R, k) IN IF G = R THEN R ELSE Closure(G, k)

\* Set the reach variables to the closure of `pre` in network state k' = net'.
Settle(pre) ==
    LET S == Closure(pre, net')
        lowest == CHOOSE m \in {height'[c] : c \in Corr} : \A c \in Corr : m <= height'[c]
        Forget(rch, h, sent) == IF sent /\ h < lowest THEN Validators ELSE rch
    IN /\ prevoteReach' = [c \in Corr |-> [h \in Heights |-> [r \in Rounds |->
                              Forget(S.pv[c][h][r], h, prevote'[c][h][r] /= NoMsg)]]]
       /\ precommitReach' = [c \in Corr |-> [h \in Heights |-> [r \in Rounds |->
                                Forget(S.pc[c][h][r], h, precommit'[c][h][r] /= NoMsg)]]]
       /\ proposalReach' = [h \in Heights |-> [r \in Rounds |->
                               Forget(S.pr[h][r], h, proposal'[h][r].value /= NoMsg)]]

\* The network part of a validator's step (the last conjunct of each action).
Gossip(g) ==
    /\ UNCHANGED <<net, events>>
    /\ IF Partitioned THEN Settle(SentReach(g)) ELSE UNCHANGED reachVars


-----------------------------------------------------------------------------
(* Partial synchrony (model/synchrony.py, whose docstring argues why these *)
(* guards are exactly the paper's "timeouts long enough after GST"). GST is *)
(* the moment the first correct validator enters round GST of height 0 (or *)
(* height 1); from then on no split happens, and a split open at GST moves  *)
(* the start of synchrony to its heal. A timeout of a step that began in    *)
(* the synchronous period fires only when (a) every other correct          *)
(* validator's message the step waits for is visible (or that validator    *)
(* moved past the round) and (b) no upon rule of the step can fire on the  *)
(* messages already in the state: no Byzantine message newly drawn.        *)

Passed == GST >= 0 /\ \E c \in Corr : height[c] > 0 \/ round[c] >= GST
Synchronous == Passed /\ (~Partitioned \/ net = 0)
Timely(c) == GST >= 0 /\ (height[c] > 0 \/ round[c] >= GST) /\ Synchronous

MovedPast(d, h, r) == height[d] > h \/ (height[d] = h /\ round[d] > r)

\* (a): another correct validator's `kind` vote of c's round is not yet visible
\* to c and may still come.
WaitsForVotes(c, kind) ==
    LET h == height[c]
        r == round[c]
    IN \E d \in Corr \ {c} :
         IF Msgs(kind)[d][h][r] /= NoMsg THEN ~Sees(c, Reach(kind)[d][h][r])
         ELSE ~MovedPast(d, h, r)

\* The proposals of round r that c holds without a draw, and a quorum it holds.
Held(c, r) == {o \in ProposalOptions(height[c], r, c) : ~o.drawn}
QuorumHeld(c, kind, r, v) ==
    Quorum(PowerOf(CorrectFor(kind, height[c], r, v, c) \cup ByzFor(kind, height[c], r, v)))

\* Line 36's proposal: under first-proposal-only (tendermint#2583) a validator
\* holds only the proposal it prevoted, if it prevoted a value.
Usable(c, v) ==
    IF Mutant = "first-proposal-only" THEN prevote[c][height[c]][round[c]] \in {NoMsg, Nil, v}
    ELSE TRUE

\* (b): line 36 on held messages; a decision (line 49); the upon rules of c's step.
PolHeld(c) ==
    \E o \in Held(c, round[c]) :
        Valid(o.value) /\ Usable(c, o.value) /\ QuorumHeld(c, "prevote", round[c], o.value)
DecisionHeld(c) ==
    LET kind == IF Mutant = "decide-on-prevotes" THEN "prevote" ELSE "precommit"
    IN \E rd \in Rounds : \E o \in Held(c, rd) :
         Valid(o.value) /\ QuorumHeld(c, kind, rd, o.value)
StepRuleHeld(c) ==
    CASE step[c] = "propose" ->
           \E o \in Held(c, round[c]) :
               \/ o.validRound = -1
               \/ Mutant = "prevote-nil-on-pol"  \* its line 22 takes any proposal
               \/ o.validRound < round[c] /\ QuorumHeld(c, "prevote", o.validRound, o.value)
      [] step[c] = "prevote" -> PolHeld(c) \/ QuorumHeld(c, "prevote", round[c], Nil)
      [] OTHER -> validRound[c] < round[c] /\ PolHeld(c)

\* The three timeouts and the round skip may fire (synchrony.py, *_due). IF,
\* not a disjunction: TLC would take each true disjunct as a step of its own.
ProposeDue(c) ==
    LET h == height[c]
        r == round[c]
        q == Proposer(h, r)
    IN IF ~Timely(c) THEN TRUE
       ELSE IF q \in Corr /\ proposal[h][r].value = NoMsg THEN MovedPast(q, h, r)
       ELSE ~StepRuleHeld(c)
PrevoteDue(c) ==
    IF ~Timely(c) THEN TRUE ELSE ~(WaitsForVotes(c, "prevote") \/ StepRuleHeld(c))
SkipDue(c) == IF ~Timely(c) THEN TRUE ELSE ~(DecisionHeld(c) \/ StepRuleHeld(c))
PrecommitDue(c) ==
    IF ~Timely(c) THEN TRUE
    ELSE IF Mutant = "skip-timeout-precommit"  \* tendermint#1690: leave on 2f + 1 at once
    THEN ~DecisionHeld(c)
    ELSE ~(WaitsForVotes(c, "precommit") \/ DecisionHeld(c) \/ StepRuleHeld(c))

-----------------------------------------------------------------------------
(* Algorithm 1, one correct validator c.                                   *)

\* Lines 11-21, StartRound(r) at height h, with the lock (lv, lr) and valid
\* value (vv, vr) the validator holds then. The proposer broadcasts its
\* validValue, or any valid value (getValue() is a nondeterministic choice).
StartRound(c, h, r, lv, lr, vv, vr) ==
    /\ height' = [height EXCEPT ![c] = h]
    /\ round' = [round EXCEPT ![c] = r]                                   \* line 12
    /\ step' = [step EXCEPT ![c] = "propose"]                             \* line 13
    /\ lockedValue' = [lockedValue EXCEPT ![c] =
                         IF Mutant = "unlock-on-new-round" THEN Nil ELSE lv]
    /\ lockedRound' = [lockedRound EXCEPT ![c] =
                         IF Mutant = "unlock-on-new-round" THEN -1 ELSE lr]
    /\ validValue' = [validValue EXCEPT ![c] = vv]
    /\ validRound' = [validRound EXCEPT ![c] = vr]
    \* propose-any-value, the original Tendermint: any value, no validRound sent
    /\ IF Proposer(h, r) = c
       THEN \E v \in (IF vv /= Nil /\ Mutant /= "propose-any-value" THEN {vv}
                     ELSE ValidValues) :                                  \* lines 15-18
              proposal' = [proposal EXCEPT ![h][r] =                      \* line 19
                             [value |-> v,
                              validRound |-> IF Mutant = "propose-any-value" THEN -1 ELSE vr]]
       ELSE UNCHANGED proposal                \* line 21: the timeout is TimeoutPropose

\* Lines 51-54: decide v at height h, reset the lock and valid value and start
\* round 0 of the next height; after the last height, halt in a canonical state.
DecideAt(c, h, v) ==
    /\ decision' = [decision EXCEPT ![c][h] = v]                          \* line 51
    /\ IF Mutant = "decide-stays-in-height"
       THEN UNCHANGED <<height, round, step, lockedValue, lockedRound, validValue, validRound,
                        proposal>>
       ELSE IF h + 1 = NHeights
       THEN /\ height' = [height EXCEPT ![c] = NHeights]
            /\ round' = [round EXCEPT ![c] = 0]
            /\ step' = [step EXCEPT ![c] = "propose"]
            /\ lockedValue' = [lockedValue EXCEPT ![c] = Nil]
            /\ lockedRound' = [lockedRound EXCEPT ![c] = -1]
            /\ validValue' = [validValue EXCEPT ![c] = Nil]
            /\ validRound' = [validRound EXCEPT ![c] = -1]
            /\ UNCHANGED proposal
       ELSE StartRound(c, h + 1, 0, Nil, -1, Nil, -1)                     \* lines 52-54

Working(c) == height[c] < NHeights

\* Lines 22-27 (validRound -1) and 28-33 (a proof-of-lock: 2f + 1 prevotes for
\* v in round vr < r): in step propose, prevote for the proposal or nil.
\* prevote-nil-on-pol (tendermint/spec#37): line 22 also takes a proposal with
\* a validRound, so a locked validator may prevote nil on a proof-of-lock.
PrevoteOnProposal(c) ==
    /\ Working(c)
    /\ step[c] = "propose"
    /\ LET h == height[c]
           r == round[c]
       IN \E o \in ProposalOptions(h, r, c) :
          \E line22 \in IF o.validRound = -1 THEN {TRUE}
                        ELSE IF Mutant = "prevote-nil-on-pol" THEN BOOLEAN ELSE {FALSE} :
            /\ o.validRound < r
            /\ LET ok == /\ Valid(o.value)                               \* lines 23, 29
                         /\ IF line22 /\ o.validRound /= -1
                            THEN lockedRound[c] = -1 \/ lockedValue[c] = o.value
                            ELSE \/ lockedRound[c] <= o.validRound
                                 \/ lockedValue[c] = o.value
                                 \/ Mutant = "no-lock"
                                 \/ Mutant = "ignore-lock-round" /\ o.validRound >= 0
                   pols == IF line22 THEN {{}}
                           ELSE Draws("prevote", h, o.validRound, o.value, c)
               IN \E S \in pols :
                    /\ TakeDraw(o, h, r, "prevote", S, h, o.validRound, o.value)
                    /\ prevote' = [prevote EXCEPT ![c][h][r] = IF ok THEN o.value ELSE Nil]
                    /\ step' = [step EXCEPT ![c] = "prevote"]
                    /\ UNCHANGED <<height, round, lockedValue, lockedRound, validValue,
                                   validRound, decision, precommit, proposal>>
    /\ Gossip(NoGain)

\* Lines 57-60: OnTimeoutPropose, guarded by step = propose (the paper's
\* "step = prevote" at line 58 is a known typo); the proposer never times out.
TimeoutPropose(c) ==
    /\ Working(c)
    /\ step[c] = "propose"
    /\ Proposer(height[c], round[c]) /= c
    /\ ProposeDue(c)
    /\ prevote' = [prevote EXCEPT ![c][height[c]][round[c]] = Nil]
    /\ step' = [step EXCEPT ![c] = "prevote"]
    /\ UNCHANGED <<height, round, lockedValue, lockedRound, validValue, validRound, decision,
                   precommit, proposal, byzVars>>
    /\ Gossip(NoGain)

\* Lines 36-43, "for the first time" in round r (validRound < r until it
\* fires): a valid proposal plus 2f + 1 prevotes for it. In step prevote,
\* lock and precommit it; in step precommit only update the valid value.
LockOrUpdateValid(c) ==
    /\ Working(c)
    /\ step[c] \in {"prevote", "precommit"}
    /\ validRound[c] < round[c]
    /\ LET h == height[c]
           r == round[c]
       IN \E v \in {o.value : o \in ProposalOptions(h, r, c)} :
            /\ Valid(v)
            /\ Usable(c, v)
            /\ \E o \in ProposalsFor(h, r, v, c), S \in Draws("prevote", h, r, v, c) :
                 /\ TakeDraw(o, h, r, "prevote", S, h, r, v)
                 /\ IF step[c] = "prevote"
                    THEN /\ lockedValue' = [lockedValue EXCEPT ![c] = v]           \* line 38
                         /\ lockedRound' = [lockedRound EXCEPT ![c] = r]           \* line 39
                         /\ precommit' = [precommit EXCEPT ![c][h][r] = v]         \* line 40
                         /\ step' = [step EXCEPT ![c] = "precommit"]               \* line 41
                    ELSE UNCHANGED <<lockedValue, lockedRound, precommit, step>>
                 /\ validValue' = [validValue EXCEPT ![c] = v]                     \* line 42
                 /\ validRound' = [validRound EXCEPT ![c] = r]                     \* line 43
                 /\ UNCHANGED <<height, round, decision, prevote, proposal>>
    /\ Gossip(NoGain)

\* Lines 44-46: 2f + 1 nil prevotes: precommit nil.
PrecommitNil(c) ==
    /\ Working(c)
    /\ step[c] = "prevote"
    /\ LET h == height[c]
           r == round[c]
       IN \E S \in Draws("prevote", h, r, Nil, c) :
            /\ TakeDraw(NoDraw, h, r, "prevote", S, h, r, Nil)
            /\ precommit' = [precommit EXCEPT ![c][h][r] = Nil]
            /\ step' = [step EXCEPT ![c] = "precommit"]
            /\ UNCHANGED <<height, round, lockedValue, lockedRound, validValue, validRound,
                           decision, prevote, proposal>>
    /\ Gossip(NoGain)

\* Lines 34-35 and 61-64: OnTimeoutPrevote after 2f + 1 prevotes for anything.
TimeoutPrevote(c) ==
    /\ Working(c)
    /\ step[c] = "prevote"
    /\ AnyQuorum("prevote", height[c], round[c], c)
    /\ PrevoteDue(c)
    /\ precommit' = [precommit EXCEPT ![c][height[c]][round[c]] = Nil]
    /\ step' = [step EXCEPT ![c] = "precommit"]
    /\ UNCHANGED <<height, round, lockedValue, lockedRound, validValue, validRound, decision,
                   prevote, proposal, byzVars>>
    /\ Gossip(NoGain)

\* Lines 47-48 and 65-67: OnTimeoutPrecommit after 2f + 1 precommits for
\* anything, up to the last configured round.
TimeoutPrecommit(c) ==
    /\ Working(c)
    /\ round[c] + 1 < NRounds
    /\ AnyQuorum("precommit", height[c], round[c], c)
    /\ PrecommitDue(c)
    /\ StartRound(c, height[c], round[c] + 1, lockedValue[c], lockedRound[c], validValue[c],
                  validRound[c])
    /\ UNCHANGED <<decision, prevote, precommit, byzVars>>
    /\ Gossip(NoGain)

\* Lines 49-54: decide on a valid proposal plus 2f + 1 precommits for it, in
\* any round (decide-on-prevotes: prevotes).
Decide(c) ==
    /\ Working(c)
    /\ LET h == height[c]
           kind == IF Mutant = "decide-on-prevotes" THEN "prevote" ELSE "precommit"
       IN \E rd \in Rounds :
            \E v \in {o.value : o \in ProposalOptions(h, rd, c)} :
              /\ Valid(v)                                                 \* line 50
              \* deciding the same value again changes nothing
              /\ Mutant = "decide-stays-in-height" => decision[c][h] /= v
              /\ \E o \in ProposalsFor(h, rd, v, c), S \in Draws(kind, h, rd, v, c) :
                   /\ TakeDraw(o, h, rd, kind, S, h, rd, v)
                   /\ DecideAt(c, h, v)
                   /\ UNCHANGED <<prevote, precommit>>
    /\ Gossip(NoGain)

\* Lines 55-56: f + 1 messages of a higher round: skip to it.
RoundSkip(c) ==
    /\ Working(c)
    /\ SkipDue(c)
    /\ \E rr \in (round[c] + 1)..(NRounds - 1) :
         /\ RoundSkipQuorum(height[c], rr, c)
         /\ StartRound(c, height[c], rr, lockedValue[c], lockedRound[c], validValue[c],
                       validRound[c])
    /\ UNCHANGED <<decision, prevote, precommit, byzVars>>
    /\ Gossip(NoGain)

\* Block sync (model/blocksync.py): validator c, working on height h, asks a
\* peer j in its component for the decided block of h with its commit
\* certificate -- the precommits for the block from one round that j holds:
\* correct ones that reached j, Byzantine ones drawn within the budget -- and
\* verifies it (every signer sent that precommit, the signers certify). A
\* correct peer offers the block it decided; a Byzantine peer any block. The
\* validator decides the block (lines 51-54) and now holds the certificate.
Offers(j, h) ==
    IF j \in Byz THEN ByzVoteValues \ {Nil}
    ELSE IF decision[j][h] /= Nil THEN {decision[j][h]} ELSE {}

SyncBlock(c) ==
    /\ Partitioned
    /\ Mutant /= "no-block-sync"
    /\ Working(c)
    /\ LET h == height[c]
       IN \E j \in Peers(net, c) \ {c}, rd \in Rounds :
            \E v \in Offers(j, h) :
              /\ Valid(v)
              /\ \E S \in DrawsFor("precommit", h, rd, v, j, TRUE) :
                   LET held == {d \in Corr : precommit[d][h][rd] = v
                                             /\ j \in precommitReach[d][h][rd]}
                   IN /\ TakeDraw(NoDraw, h, rd, "precommit", S, h, rd, v)
                      /\ Certifies(PowerOf(held \cup {b \in Byz : v \in byzPrecommit'[b][h][rd]}))
                      /\ DecideAt(c, h, v)
                      /\ UNCHANGED <<prevote, precommit>>
                      /\ Gossip([who |-> c, h |-> h, r |-> rd, held |-> held])

\* The nemesis: split a whole network by one of the configured splits, or
\* heal a split one; each event spends one of MaxPartitions.
NetworkEvent ==
    /\ Partitioned
    /\ events < MaxPartitions
    /\ \/ net = 0 /\ ~Passed /\ \E k \in 1..Len(Splits) : net' = k   \* no split from GST on
       \/ net /= 0 /\ net' = 0
    /\ events' = events + 1
    /\ UNCHANGED <<local, prevote, precommit, proposal, byzVars>>
    /\ Settle([pv |-> prevoteReach, pc |-> precommitReach, pr |-> proposalReach])

-----------------------------------------------------------------------------

\* Line 10: every correct validator starts round 0 of height 0.
Init ==
    /\ height = [c \in Corr |-> 0]
    /\ round = [c \in Corr |-> 0]
    /\ step = [c \in Corr |-> "propose"]
    /\ lockedValue = [c \in Corr |-> Nil]
    /\ lockedRound = [c \in Corr |-> -1]
    /\ validValue = [c \in Corr |-> Nil]
    /\ validRound = [c \in Corr |-> -1]
    /\ decision = [c \in Corr |-> [h \in Heights |-> Nil]]
    /\ prevote = [c \in Corr |-> [h \in Heights |-> [r \in Rounds |-> NoMsg]]]
    /\ precommit = [c \in Corr |-> [h \in Heights |-> [r \in Rounds |-> NoMsg]]]
    /\ byzPrevote = [b \in Byz |-> [h \in Heights |-> [r \in Rounds |-> {}]]]
    /\ byzPrecommit = [b \in Byz |-> [h \in Heights |-> [r \in Rounds |-> {}]]]
    /\ byzProposal = [h \in Heights |-> [r \in Rounds |-> {}]]
    /\ byzantineUsed = 0
    /\ prevoteReach = [c \in Corr |-> [h \in Heights |-> [r \in Rounds |-> {}]]]
    /\ precommitReach = [c \in Corr |-> [h \in Heights |-> [r \in Rounds |-> {}]]]
    \* the first proposal reaches everyone: the network starts whole
    /\ proposalReach = [h \in Heights |-> [r \in Rounds |->
                           IF Partitioned /\ <<h, r>> = <<0, 0>> /\ Proposer(0, 0) \in Corr
                           THEN Validators ELSE {}]]
    /\ net = 0
    /\ events = 0
    /\ LET empty == [h \in Heights |-> [r \in Rounds |-> NoProposal]]
       IN IF Proposer(0, 0) \in Corr
          THEN \E v \in ValidValues :                                      \* lines 18-19
                 proposal = [empty EXCEPT ![0][0] = [value |-> v, validRound |-> -1]]
          ELSE proposal = empty

Next ==
    \/ \E c \in Corr :
        \/ PrevoteOnProposal(c)
        \/ TimeoutPropose(c)
        \/ LockOrUpdateValid(c)
        \/ PrecommitNil(c)
        \/ TimeoutPrevote(c)
        \/ TimeoutPrecommit(c)
        \/ Decide(c)
        \/ RoundSkip(c)
        \/ SyncBlock(c)
    \/ NetworkEvent

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Properties (model/properties.py).                                       *)

Decided(h) == {decision[c][h] : c \in Corr} \ {Nil}

\* No two correct validators decide differently at any height.
Agreement == \A h \in Heights : Cardinality(Decided(h)) <= 1

\* Every decided value is valid.
Validity == \A c \in Corr, h \in Heights : decision[c][h] /= Invalid

\* A decision, once made, never changes: an action property, [][IntegrityStep]_vars.
IntegrityStep ==
    \A c \in Corr, h \in Heights :
        decision[c][h] /= Nil => decision'[c][h] = decision[c][h]
Integrity == [][IntegrityStep]_vars

\* The length of c's ledger: its decided prefix.
LedgerLength(c) ==
    LET undecided == {h \in Heights : decision[c][h] = Nil}
    IN IF undecided = {} THEN NHeights
       ELSE CHOOSE h \in undecided : \A g \in undecided : h <= g

\* Of any two correct validators' ledgers, one is a prefix of the other.
LedgerConsistency ==
    \A c, d \in Corr :
        \A h \in Heights :
            (h < LedgerLength(c) /\ h < LedgerLength(d)) => decision[c][h] = decision[d][h]

\* Evidence of misbehaviour: the `kind` votes validator i sent at (h, r) that
\* correct validators acted on.
Votes(kind, i, h, r) ==
    IF i \in Byz THEN ByzMsgs(kind)[i][h][r] \cap ByzVoteValues
    ELSE LET m == (IF kind = "prevote" THEN prevote ELSE precommit)[i][h][r]
         IN IF m = NoMsg THEN {} ELSE {m}

PrevotePower(h, r, v) == PowerOf({i \in Validators : v \in Votes("prevote", i, h, r)})

\* Two different prevotes, precommits or proposals in one round.
Equivocated(i, h) ==
    \E r \in Rounds :
        \/ Cardinality(Votes("prevote", i, h, r)) > 1
        \/ Cardinality(Votes("precommit", i, h, r)) > 1
        \/ i \in Byz /\ Proposer(h, r) = i /\ Cardinality(byzProposal[h][r]) > 1

\* Precommitted v1 in round r1, later prevoted v2 /= v1 in round r2 > r1 with
\* no proof-of-lock (2f + 1 prevotes, strictly) for v2 in any round of [r1, r2).
Amnesic(i, h) ==
    \E r1, r2 \in Rounds :
        /\ r1 < r2
        /\ \E v1 \in Votes("precommit", i, h, r1), v2 \in Votes("prevote", i, h, r2) :
             /\ v1 /= Nil
             /\ v2 \notin {Nil, v1}
             /\ ~\E vr \in r1..(r2 - 1) : 3 * PrevotePower(h, vr, v2) > 2 * Total

Accused(i, h) == Equivocated(i, h) \/ Amnesic(i, h)

\* Where Agreement fails at a height, validators with more than 1/3 of the
\* power are provably faulty at that height.
Accountability ==
    \A h \in Heights :
        Cardinality(Decided(h)) > 1 =>
            3 * PowerOf({i \in Validators : Accused(i, h)}) > Total

\* No correct validator is ever provably faulty.
NoFalseAccusation == \A h \in Heights, c \in Corr : ~Accused(c, h)

\* The validValue lemma termination rests on (tendermint#2583), after GST:
\* once a correct validator locks a value in round r >= GST (its precommit for
\* a value), every correct validator that leaves round r of that height has
\* recorded a valid value of round r or later (properties.valid_block).
ValidBlock ==
    GST < 0 \/
    \A h \in Heights, r \in 0..(NRounds - 2) :
        (/\ h = 0 => r >= GST
         /\ \E c \in Corr : precommit[c][h][r] \notin {NoMsg, Nil})
        => \A c \in Corr : ~(height[c] = h /\ round[c] > r /\ validRound[c] < r)

\* Reachability witnesses, stated negatively: TLC reports a witness as the
\* violation of its negation.
NoDecision == \A c \in Corr : decision[c][0] = Nil
RoundSkipStep == \E c \in Corr : RoundSkip(c)
NoRoundSkip == [][~RoundSkipStep]_vars
LockChangeStep ==
    \E c \in Corr : /\ lockedValue[c] /= Nil
                    /\ lockedValue'[c] /= Nil
                    /\ lockedValue'[c] /= lockedValue[c]
NoLockChange == [][~LockChangeStep]_vars
=============================================================================
