"""The payer set-up for claim details and payments: `bulkclaimsctl demo`
registers the three UHC transactions, `set-endpoint` defaults api_path by
transaction, and migration 009 fills the CARC/RARC reference texts
(carc_label/rarc_label show an unknown code alone).
"""
from sec_util import ctl_ok, psql

# The codes the payer simulator sends, and those the task names.
CARC = ["1", "2", "3", "16", "23", "29", "45", "50", "96", "97", "197",
        "204", "242", "253"]
RARC = ["N130", "M15", "MA130", "N362", "N290", "M127", "N4", "N30", "N54",
        "N56", "N657"]


def test_demo_registers_four_uhc_transactions():
    rows = psql("SELECT transaction_code, api_path FROM payer_endpoints "
                "WHERE provider_code = 'UHC' ORDER BY transaction_code")
    assert rows == [["CLAIM_DETAILS", "/oihub/claim/detail/v1"],
                    ["CLAIM_PAYMENT", "/oihub/claim/payment/v1"],
                    ["CLAIM_STATUS", "/oihub/claim/inquiry/v1"],
                    ["MEMBER_SEARCH", "/oihub/claim/member-search/v1"]], rows


def test_set_endpoint_defaults_api_path_by_transaction():
    try:
        for txn, path in (("CLAIM_DETAILS", "/oihub/claim/detail/v1"),
                          ("CLAIM_PAYMENT", "/oihub/claim/payment/v1"),
                          ("CLAIM_STATUS", "/oihub/claim/inquiry/v1"),
                          ("MEMBER_SEARCH",
                           "/oihub/claim/member-search/v1")):
            ctl_ok("set-endpoint", "--provider", "TESTPAYER",
                   "--transaction", txn, "--base-url", "http://127.0.0.1:9")
            got = psql("SELECT api_path FROM payer_endpoints WHERE "
                       "provider_code = 'TESTPAYER' AND transaction_code ="
                       " :'v1'", txn)
            assert got == [[path]], (txn, got)
        ctl_ok("set-endpoint", "--provider", "TESTPAYER", "--transaction",
               "CLAIM_PAYMENT", "--base-url", "http://127.0.0.1:9",
               "--api-path", "/elsewhere")
        assert psql("SELECT api_path FROM payer_endpoints WHERE "
                    "provider_code = 'TESTPAYER' AND transaction_code = "
                    "'CLAIM_PAYMENT'") == [["/elsewhere"]]
    finally:
        psql("DELETE FROM payer_endpoints WHERE provider_code = "
             "'TESTPAYER'")


def test_adjustment_code_texts():
    carc = dict(psql("SELECT code, description FROM carc_codes"))
    rarc = dict(psql("SELECT code, description FROM rarc_codes"))
    assert [c for c in CARC if not carc.get(c)] == []
    assert [c for c in RARC if not rarc.get(c)] == []
    assert "fee schedule" in carc["45"]
    assert "medically necessary" in carc["50"]
    assert psql("SELECT carc_label('50'), carc_label('9999'), "
                "rarc_label('n130'), rarc_label('ZZ1')") == [[
                    "50: " + carc["50"], "9999", "N130: " + rarc["N130"],
                    "ZZ1"]]
