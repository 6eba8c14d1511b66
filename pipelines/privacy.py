"""What counts as a full ID number or mobile number in a text: one definition for the checks that
refuse one (the analyst copy, the feedback workbooks), the masking that removes one where no
personal data belongs (ingest) and the refresh record's error text."""

FULL_ID, PHONE = r"\d{17}[\dXx]", r"1[3-9]\d{9}"
_EDGE_BEFORE, _EDGE_AFTER = r"(^|[^0-9A-Za-z])", r"([^0-9A-Za-z]|$)"
# Standing on its own in a text value (not inside a longer run of letters and digits such as a
# person_key hash).
FULL_ID_OR_PHONE = rf"{_EDGE_BEFORE}({FULL_ID}|{PHONE}){_EDGE_AFTER}"
# The same two, each split where its mask keeps the ends (110105********002X, 138****5678): the
# pattern and the stars between group 2 and group 3, the edges being groups 1 and 4.
MASKED_ENDS = (
    (rf"{_EDGE_BEFORE}(\d{{6}})\d{{8}}(\d{{3}}[\dXx]){_EDGE_AFTER}", "********"),
    (rf"{_EDGE_BEFORE}(1[3-9]\d)\d{{4}}(\d{{4}}){_EDGE_AFTER}", "****"),
)
