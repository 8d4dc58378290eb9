// Plugin and core versions ordered as Jenkins orders them: hudson.util.VersionNumber, which is
// Maven's ComparableVersion (jenkinsci/lib-version-number). No maintained npm package implements
// that order (semver refuses `4540.v612369217f87`, `2.568.2` compares as text elsewhere), so the
// rules are written here, and tests/plugins.test.ts pins them with Maven's own examples.
//
// A version is split at '.', at '-' (which opens a sub-list) and where digits meet letters.
// Numbers compare as numbers; words by the qualifier order alpha < beta < milestone < rc <
// snapshot < "" (a release) < sp, unknown words after those, alphabetically; a number outranks
// a word and a sub-list; trailing zeros and empty qualifiers do not count (1.0 = 1).

type Item = bigint | string | Item[];

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const ALIASES: Record<string, string> = { ga: "", final: "", release: "", cr: "rc" };
const RELEASE = QUALIFIERS.indexOf("");

function qualifierRank(word: string): string {
    const known = QUALIFIERS.indexOf(word);
    // Unknown words sort after every known one, among themselves alphabetically.
    return known >= 0 ? String(known) : `${QUALIFIERS.length}-${word}`;
}

function isNull(item: Item): boolean {
    if (typeof item === "bigint") return item === 0n;
    if (typeof item === "string") return qualifierRank(item) === String(RELEASE);
    return item.length === 0;
}

/** Drops trailing null items, as ComparableVersion normalises each list. */
function normalise(list: Item[]): Item[] {
    while (list.length > 0 && isNull(list[list.length - 1])) list.pop();
    return list;
}

function parse(version: string): Item[] {
    const root: Item[] = [];
    let list = root;
    const stack: Item[][] = [root];
    const v = version.toLowerCase();
    let start = 0;
    let digits = false;
    const word = (text: string, followedByDigit: boolean): Item => {
        if (/^\d+$/.test(text)) return BigInt(text);
        if (followedByDigit && text.length === 1) {
            // "a1", "b2", "m3": the short forms, only when a number follows.
            const short: Record<string, string> = { a: "alpha", b: "beta", m: "milestone" };
            if (short[text]) return short[text];
        }
        return ALIASES[text] ?? text;
    };
    const push = (end: number, followedByDigit = false) => {
        const text = v.slice(start, end);
        list.push(text === "" ? 0n : word(text, followedByDigit));
    };
    for (let i = 0; i < v.length; i++) {
        const c = v[i];
        if (c === ".") {
            push(i);
            start = i + 1;
        } else if (c === "-") {
            push(i);
            start = i + 1;
            const sub: Item[] = [];
            list.push(sub);
            list = sub;
            stack.push(sub);
        } else if (/\d/.test(c)) {
            if (!digits && i > start) {
                // letters then digits: the word ends and a sub-list opens (1.0alpha1 = 1-alpha-1)
                push(i, true);
                start = i;
                const sub: Item[] = [];
                list.push(sub);
                list = sub;
                stack.push(sub);
            }
            digits = true;
        } else {
            if (digits && i > start) {
                push(i);
                start = i;
                const sub: Item[] = [];
                list.push(sub);
                list = sub;
                stack.push(sub);
            }
            digits = false;
        }
    }
    if (v.length > start) push(v.length);
    for (const l of stack.reverse()) normalise(l);
    return root;
}

function compareItems(a: Item | undefined, b: Item | undefined): number {
    if (a === undefined && b === undefined) return 0;
    if (a === undefined) return -compareItems(b, undefined);
    if (typeof a === "bigint") {
        if (b === undefined) return a === 0n ? 0 : 1;
        if (typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
        return 1; // a number outranks a word and a sub-list
    }
    if (typeof a === "string") {
        if (b === undefined) return compareRanks(qualifierRank(a), String(RELEASE));
        if (typeof b === "bigint") return -1;
        if (typeof b === "string") return compareRanks(qualifierRank(a), qualifierRank(b));
        return -1; // a word sorts before a sub-list
    }
    if (b === undefined) return a.length === 0 ? 0 : compareItems(a[0], undefined);
    if (typeof b === "bigint") return -1;
    if (typeof b === "string") return 1;
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const c = compareItems(a[i], b[i]);
        if (c !== 0) return c;
    }
    return 0;
}

function compareRanks(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative when a is older than b, positive when newer, 0 when Jenkins sees them as equal. */
export function compareVersions(a: string, b: string): number {
    return Math.sign(compareItems(parse(a), parse(b)));
}

/** The newer of two versions. */
export function newer(a: string, b: string): string {
    return compareVersions(a, b) >= 0 ? a : b;
}
