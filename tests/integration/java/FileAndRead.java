// What an agency's Java program does with the generated client (clients/java): a clerk files a complaint
// through intake, the county's inspector waits for it in the ledger and reads its case through cases.
// Run by tests/integration/test_java_client.py as a single-file program:
//   java -cp <client jar and its libraries> FileAndRead.java INTAKE_URL CLERK_TOKEN CASES_URL INSPECTOR_TOKEN
//        COMPLAINT_JSON IDEMPOTENCY_KEY
// It prints "<complaint id> <case id> <the case's case_id> <county> <status of a read without a token>".

import java.util.Map;

import org.anxin.clients.cases.api.LedgerApi;
import org.anxin.clients.cases.model.ComplaintView;
import org.anxin.clients.intake.api.ComplaintsApi;
import org.anxin.clients.intake.model.ComplaintSubmissionIn;
import org.anxin.clients.intake.model.FiledResponse;

public class FileAndRead {
    public static void main(String[] args) throws Exception {
        var intake = new org.anxin.clients.intake.ApiClient();
        intake.updateBaseUri(args[0]);
        intake.setRequestInterceptor(request -> request.header("Authorization", "Bearer " + args[1]));
        ComplaintSubmissionIn complaint = intake.getObjectMapper().readValue(args[4], ComplaintSubmissionIn.class);
        FiledResponse filed = new ComplaintsApi(intake).fileComplaint(complaint, args[5]);

        var cases = new org.anxin.clients.cases.ApiClient();
        cases.updateBaseUri(args[2]);
        cases.setRequestInterceptor(request -> request.header("Authorization", "Bearer " + args[3]));
        LedgerApi ledger = new LedgerApi(cases);
        ComplaintView view = null;
        long deadline = System.currentTimeMillis() + 90_000;
        while (view == null) {
            try {
                view = ledger.getComplaint(filed.getComplaintId());
            } catch (org.anxin.clients.cases.ApiException refused) {
                // 404 until the ledger has read the complaint's event.
                if (refused.getCode() != 404 || System.currentTimeMillis() > deadline) {
                    throw refused;
                }
                Thread.sleep(400);
            }
        }
        Map<String, Object> ledgerCase = ledger.getCase(view.getCaseId());

        var anonymous = new org.anxin.clients.cases.ApiClient();
        anonymous.updateBaseUri(args[2]);
        int refusedStatus = 0;
        try {
            new LedgerApi(anonymous).getCase(view.getCaseId());
        } catch (org.anxin.clients.cases.ApiException refused) {
            refusedStatus = refused.getCode();
        }
        System.out.println(String.join(" ", filed.getComplaintId(), view.getCaseId(),
                String.valueOf(ledgerCase.get("case_id")), view.getCounty(), String.valueOf(refusedStatus)));
    }
}
