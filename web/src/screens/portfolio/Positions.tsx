import { useQuery } from "@tanstack/react-query";
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type Row,
  type SortingState,
} from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { Link } from "react-router";
import { api, call, type Schemas } from "../../api/client";
import { QueryView } from "../../components/Status";
import { money, num, pct, signClass, sumDecimals, toNumber } from "../../lib/format";
import { usePortfolioContext } from "../../lib/portfolios";

export type Position = Schemas["PositionRead"];

const helper = createColumnHelper<Position>();

function byNumber(key: keyof Position) {
  return (a: Row<Position>, b: Row<Position>) => {
    const x = toNumber(a.original[key] as string | null | undefined);
    const y = toNumber(b.original[key] as string | null | undefined);
    if (x === null && y === null) return 0;
    if (x === null) return -1;
    if (y === null) return 1;
    return x - y;
  };
}

export function PositionsTable({ positions, currency }: { positions: Position[]; currency: string }) {
  const [sorting, setSorting] = useState<SortingState>([{ id: "market_value", desc: true }]);
  const columns = useMemo(
    () => [
      helper.accessor("ticker", {
        header: "Ticker",
        cell: (c) => <Link to={`/instruments/${c.getValue()}`}>{c.getValue()}</Link>,
      }),
      helper.accessor("quantity", { header: "Quantity", sortingFn: byNumber("quantity"), cell: (c) => num(c.getValue()), meta: { num: true } }),
      helper.accessor("average_cost", { header: "Average cost", sortingFn: byNumber("average_cost"), cell: (c) => money(c.getValue(), currency), meta: { num: true } }),
      helper.accessor("last_price", { header: "Last price", sortingFn: byNumber("last_price"), cell: (c) => money(c.getValue(), currency), meta: { num: true } }),
      helper.accessor("market_value", { header: "Market value", sortingFn: byNumber("market_value"), cell: (c) => money(c.getValue(), currency), meta: { num: true } }),
      helper.accessor("unrealized_pnl", {
        header: "Unrealized P&L",
        sortingFn: byNumber("unrealized_pnl"),
        cell: (c) => <span className={signClass(c.getValue())}>{money(c.getValue(), currency)}</span>,
        meta: { num: true },
      }),
      helper.accessor("weight", { header: "Weight", sortingFn: byNumber("weight"), cell: (c) => pct(c.getValue()), meta: { num: true } }),
    ],
    [currency],
  );
  const table = useReactTable({
    data: positions,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const totals = {
    market_value: sumDecimals(positions.map((p) => p.market_value)),
    unrealized_pnl: sumDecimals(positions.map((p) => p.unrealized_pnl)),
    weight: sumDecimals(positions.map((p) => p.weight)),
  };
  return (
    <div className="table-wrap">
      <table className="positions">
        <caption className="sr-only">Open positions; select a column heading to sort</caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                const isNum = (header.column.columnDef.meta as { num?: boolean } | undefined)?.num;
                return (
                  <th
                    key={header.id}
                    scope="col"
                    className={isNum ? "num" : undefined}
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : "none"}
                  >
                    <button type="button" className="sort" onClick={header.column.getToggleSortingHandler()}>
                      {flexRender(header.column.columnDef.header, header.getContext())}
                      <span aria-hidden="true">{sorted === "asc" ? " ▲" : sorted === "desc" ? " ▼" : ""}</span>
                    </button>
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id}>
              {row.getVisibleCells().map((cell) => {
                const isNum = (cell.column.columnDef.meta as { num?: boolean } | undefined)?.num;
                return (
                  <td key={cell.id} className={isNum ? "num" : undefined}>
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr className="totals">
            <th scope="row">Total</th>
            <td />
            <td />
            <td />
            <td className="num" data-testid="total-market-value">
              {money(totals.market_value, currency)}
            </td>
            <td className={`num ${signClass(totals.unrealized_pnl)}`} data-testid="total-unrealized">
              {money(totals.unrealized_pnl, currency)}
            </td>
            <td className="num" data-testid="total-weight">
              {pct(totals.weight)}
            </td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

/** Where the positions' prices come from: the closes they were valued at. */
export function pricesNote(positions: Pick<Position, "price_date">[]): string {
  const dates = [...new Set(positions.flatMap((p) => (p.price_date ? [p.price_date] : [])))].sort();
  if (!dates.length) return "Prices: no close known yet.";
  const span = dates.length === 1 ? dates[0] : `${dates[0]} to ${dates[dates.length - 1]}`;
  return `Prices: closes of ${span}. Overview and Allocation value the same positions at the latest quotes.`;
}

export default function Positions() {
  const { portfolio } = usePortfolioContext();
  const slug = portfolio.slug;
  const positions = useQuery({
    queryKey: ["positions", slug],
    queryFn: () => call(api.GET("/portfolios/{slug}/positions", { params: { path: { slug }, query: { limit: 500 } } })),
  });
  return (
    <section aria-labelledby="positions-title">
      <h2 id="positions-title">Positions</h2>
      <p className="muted">
        Cash <span className="num">{money(portfolio.cash_balance, portfolio.base_currency)}</span>
      </p>
      <QueryView query={positions} isEmpty={(d) => d.items.length === 0} empty="No open positions.">
        {(d) => (
          <>
            <PositionsTable positions={d.items} currency={portfolio.base_currency} />
            <p className="muted small">{pricesNote(d.items)}</p>
          </>
        )}
      </QueryView>
    </section>
  );
}
