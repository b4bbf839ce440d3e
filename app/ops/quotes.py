"""Investing quotes served by `GET /inspiration`."""

QUOTES: tuple[tuple[str, str], ...] = (
    (
        "The stock market is filled with individuals who know the price of everything, "
        "but the value of nothing.",
        "Philip Fisher",
    ),
    ("Risk comes from not knowing what you're doing.", "Warren Buffett"),
    ("In investing, what is comfortable is rarely profitable.", "Robert Arnott"),
    (
        "The four most dangerous words in investing are: 'this time it's different.'",
        "John Templeton",
    ),
    ("Know what you own, and know why you own it.", "Peter Lynch"),
    (
        "The individual investor should act consistently as an investor and not as a speculator.",
        "Benjamin Graham",
    ),
    ("Don't look for the needle in the haystack. Just buy the haystack!", "John C. Bogle"),
    (
        "The market can stay irrational longer than you can stay solvent.",
        "attributed to John Maynard Keynes",
    ),
    (
        "Wide diversification is only required when investors do not understand what they "
        "are doing.",
        "Warren Buffett",
    ),
    ("Investing should be more like watching paint dry or watching grass grow.", "Paul Samuelson"),
    ("Time in the market beats timing the market.", "Ken Fisher"),
    (
        "The investor's chief problem, and even his worst enemy, is likely to be himself.",
        "Benjamin Graham",
    ),
)
