import { useQuery } from "@tanstack/react-query";
import { useOutletContext } from "react-router";
import { api, call, type Schemas } from "../api/client";

export type Portfolio = Schemas["PortfolioRead"];

export function usePortfolios() {
  return useQuery({
    queryKey: ["portfolios"],
    queryFn: () => call(api.GET("/portfolios", { params: { query: { limit: 500 } } })),
    staleTime: 30_000,
  });
}

export function usePortfolio(slug: string) {
  return useQuery({
    queryKey: ["portfolio", slug],
    queryFn: () => call(api.GET("/portfolios/{slug}", { params: { path: { slug } } })),
  });
}

export interface PortfolioContext {
  portfolio: Portfolio;
  canManage: boolean;
  canTrade: boolean;
}

export function usePortfolioContext(): PortfolioContext {
  return useOutletContext<PortfolioContext>();
}
