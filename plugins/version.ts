// Plugin and core versions ordered as Jenkins orders them: hudson.util.VersionNumber
// (jenkinsci/lib-version-number), which the plugin manager and the update center use for
// `requiredCore` and dependency checks. It is an older fork of Maven's ComparableVersion with
// rules of its own, so neither semver nor a Maven port gives the same answers: no npm package
// implements it, and the rules are written here. tests/plugins.test.ts holds them to the
// library's own test cases and to vectors computed by the library itself.
//
// The rules: a timestamped snapshot (-20170207.105042-1) or -SNAPSHOT is set aside and compared
// last. The rest, lower-cased, is split into items at '.', at '-' and where letters meet digits
// (a digit after letters starts a new item, and '-' between a number and a digit opens a
// sub-list); '*' is a wildcard that outranks everything but itself. Numbers compare as numbers;
// words by snapshot < alpha < beta < milestone < rc (= cr, ea) < "" (= ga, final) < sp, unknown
// words after those, alphabetically; a number outranks a sub-list, a sub-list a word; trailing
// nulls (0, "", an empty list) are dropped before comparing.

type Item = { int: bigint } | { word: string } | { list: Item[] } | { wildcard: true };

const QUALIFIERS = ["snapshot", "alpha", "beta", "milestone", "rc", "", "sp"];
const ALIASES: Record<string, string> = { ga: "", final: "", cr: "rc", ea: "rc" };
const SHORT: Record<string, string> = { a: "alpha", b: "beta", m: "milestone" };
const RELEASE = String(QUALIFIERS.indexOf(""));
const SNAPSHOT = /^.*((?:-\d{8}\.\d{6}-\d+)|-SNAPSHOT)( \(.*\))?$/d;

/** The order key of a word: its place among the qualifiers, unknown words after them. */
function rank(word: string): string {
    const i = QUALIFIERS.indexOf(word);
    return i === -1 ? `${QUALIFIERS.length}-${word}` : String(i);
}

function word(text: string, followedByDigit: boolean): Item {
    const short = followedByDigit && text.length === 1 ? SHORT[text] : undefined;
    const value = short ?? text;
    return { word: ALIASES[value] ?? value };
}

function isNull(item: Item): boolean {
    if ("int" in item) return item.int === 0n;
    if ("word" in item) return rank(item.word) === RELEASE;
    if ("list" in item) return item.list.length === 0;
    return false;
}

function normalise(list: Item[]): void {
    while (list.length > 0 && isNull(list[list.length - 1])) list.pop();
}

const cmp = (a: string | bigint, b: string | bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Compares an item with another, or with nothing (`undefined`), as the library's Item.compareTo does. */
function compare(a: Item, b: Item | undefined): number {
    if ("wildcard" in a) return b !== undefined && "wildcard" in b ? 0 : 1;
    if ("int" in a) {
        if (b === undefined) return a.int === 0n ? 0 : 1;
        if ("int" in b) return cmp(a.int, b.int);
        return "wildcard" in b ? 0 : 1;
    }
    if ("word" in a) {
        if (b === undefined) return cmp(rank(a.word), RELEASE);
        return "word" in b ? cmp(rank(a.word), rank(b.word)) : -1;
    }
    if (b === undefined) return a.list.length === 0 ? 0 : compare(a.list[0], undefined);
    if ("int" in b || "wildcard" in b) return -1;
    if ("word" in b) return 1;
    for (let i = 0; i < Math.max(a.list.length, b.list.length); i++) {
        const x = a.list[i];
        const y = b.list[i];
        const r = x === undefined ? (y === undefined ? 0 : -compare(y, undefined)) : compare(x, y);
        if (r !== 0) return r;
    }
    return 0;
}

interface Parsed {
    items: Item[];
    snapshot?: string;
}

function parse(version: string): Parsed {
    let snapshot: string | undefined;
    const m = SNAPSHOT.exec(version);
    if (m) {
        snapshot = m[1];
        version = version.slice(0, m.indices![1][0]) + "-SNAPSHOT";
    }
    const v = version.toLowerCase();
    const root: Item[] = [];
    let list = root;
    const lists: Item[][] = [root];
    let digits = false;
    let start = 0;
    const item = (isDigit: boolean, text: string): Item => (isDigit ? { int: BigInt(text) } : word(text, false));
    for (let i = 0; i < v.length; i++) {
        const c = v[i];
        if (c === "." || c === "-") {
            list.push(i === start ? { int: 0n } : item(digits, v.slice(start, i)));
            start = i + 1;
            if (c === "-" && digits) {
                normalise(list);
                if (i + 1 < v.length && /\d/.test(v[i + 1])) {
                    const sub: Item[] = [];
                    list.push({ list: sub });
                    list = sub;
                    lists.push(sub);
                }
            }
        } else if (c === "*") {
            list.push({ wildcard: true });
            start = i + 1;
        } else if (/\d/.test(c)) {
            if (!digits && i > start) {
                list.push(word(v.slice(start, i), true));
                start = i;
            }
            digits = true;
        } else if (/\s/.test(c)) {
            if (i > start) {
                list.push(digits ? item(true, v.slice(start, i)) : word(v.slice(start, i), true));
                start = i;
            }
            digits = false;
        } else {
            if (digits && i > start) {
                list.push(item(true, v.slice(start, i)));
                start = i;
            }
            digits = false;
        }
    }
    if (v.length > start) list.push(item(digits, v.slice(start)));
    for (const l of lists.reverse()) normalise(l);
    return { items: root, snapshot };
}

/** Negative when a is older than b, positive when newer, 0 when Jenkins sees them as equal. */
export function compareVersions(a: string, b: string): number {
    const x = parse(a);
    const y = parse(b);
    const r = compare({ list: x.items }, { list: y.items });
    if (r !== 0) return Math.sign(r);
    if (x.snapshot === undefined) return y.snapshot === undefined ? 0 : -1;
    if (y.snapshot === undefined) return 1;
    if (x.snapshot === "-SNAPSHOT" || y.snapshot === "-SNAPSHOT") return 0;
    // Two timestamped snapshots: by timestamp, then by build number.
    return (
        Math.sign(cmp(x.snapshot.slice(1, 16), y.snapshot.slice(1, 16))) ||
        Math.sign(cmp(BigInt(x.snapshot.slice(17)), BigInt(y.snapshot.slice(17))))
    );
}
