import logging

from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


def run_isolating_failures(records, process, isolate_single=False):
    """Run process on all records at once; if a business error stops it,
    run it again record by record, so that one broken record does not hold
    back the others (RELIABILITY E4).

    A single record still raises unless isolate_single (the step that
    triggered it must go through, e.g. an automatic refund on receipt): its
    user sees the error and nothing changes. Returns {record: error message}
    for the records that failed.
    """
    if not records:
        return {}
    if len(records) == 1 and not isolate_single:
        process(records)
        return {}
    try:
        with records.env.cr.savepoint():
            process(records)
        return {}
    except UserError as error:
        _logger.info("Batch of %s stopped (%s): one by one", records._name, error)
    failed = {}
    for record in records:
        try:
            with records.env.cr.savepoint():
                process(record)
        except UserError as error:
            failed[record] = error.args[0]
    return failed
